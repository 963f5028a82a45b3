"""What the shipped models say for fixed inputs, as small reference arrays (tests/assets/reference_outputs.npz).

`tests/package/test_outputs_unchanged.py` recomputes these and compares them in two ways:

- against the committed file, on any machine, within a relative bound: two hosts that report the same
  torch build and vector unit still round differently (the FFT and convolution kernels pick their code
  paths from the exact CPU), so bits are not portable, but a real change moves outputs far more;
- bit for bit against a local file written on this machine, when there is one. Before a change that
  should not alter what users hear (a redesign that moves code), write it, then make the change:

    python tests/helpers/reference_outputs.py --local     # tests/assets/reference_outputs.local.npz, not committed

Regenerate the committed file only when an output is meant to change, and say why in the commit:

    python tests/helpers/reference_outputs.py --write

Inputs: a 0.4 s test signal (two harmonic tones with a glide, and noise, from a fixed seed) through
each shipped vocoder's own mel front-end, and two sentences through each shipped acoustic model
(phoneme ids, mel) and the default vocoder. One thread, so the sums run in one order.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parents[1] / "assets" / "reference_outputs.npz"
LOCAL_REFERENCE = REFERENCE.with_suffix(".local.npz")
VOCODERS = ("lj-v1", "universal-v1", "joe-lite", "joe-fourier", "joe-tiny", "universal-lite", "universal-pghi", "pghi", "griffin-lim")
ACOUSTIC = ("joe-lightspeech-10h",)
STREAMED = ("joe-lite", "joe-fourier", "universal-pghi", "pghi")  # also through `stream` in 17-frame chunks and ONNX Runtime
STREAM_CHUNK = 17
TTS_VOCODER = "joe-fourier"  # the tts default (registry.DEFAULT_VOCODER)
SENTENCES = ("Dr. Smith owes 13 dollars.", "Is it ready?")


def probe_signal(sample_rate: int, seconds: float = 0.4) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    glide = 2 * np.pi * (140 * t + 60 * t**2)  # 140 Hz rising
    voiced = sum(np.sin(k * glide) / k for k in range(1, 12))
    noise = np.random.default_rng(0).standard_normal(t.size)
    return (0.2 * voiced * (t < seconds / 2) + 0.05 * noise * (t >= seconds / 2)).astype(np.float32)


def compute() -> dict[str, np.ndarray]:
    """Every reference array, keyed `vocoder/NAME/{mel,audio}`, `vocoder/NAME/stream`,
    `onnx/NAME/{mel,audio,stream}`, `tts/MODEL/{i}/{ids,mel,audio}` and `onnx-tts/MODEL/{i}/audio`.
    ONNX keys only where onnxruntime is installed; the ONNX exports go to a temporary cache."""
    import torch

    from hifilite import load_vocoder
    from hifilite.tts.synthesis import Synthesizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out: dict[str, np.ndarray] = {}
    try:
        with torch.inference_mode():
            for name in VOCODERS:
                voc = load_vocoder(name)
                mel = voc.mel(probe_signal(voc.sample_rate))
                out[f"vocoder/{name}/mel"] = mel[0].numpy()
                out[f"vocoder/{name}/audio"] = voc(mel)[0].numpy()
                if name in STREAMED:
                    out[f"vocoder/{name}/stream"] = np.concatenate([p[0].numpy() for p in voc.stream(
                        mel[..., i:i + STREAM_CHUNK] for i in range(0, mel.shape[-1], STREAM_CHUNK))])
            for name in ACOUSTIC:
                tts = Synthesizer.load(name, vocoder=TTS_VOCODER)
                for i, sentence in enumerate(SENTENCES):
                    (text,) = tts.sentences(sentence)
                    ids = tts.ids(text)
                    mel = tts.mel(text)
                    out[f"tts/{name}/{i}/ids"] = np.asarray(ids, dtype=np.int64)
                    out[f"tts/{name}/{i}/mel"] = mel.numpy()
                    out[f"tts/{name}/{i}/audio"] = tts.vocode(mel)
    finally:
        torch.set_num_threads(threads)
    out.update(compute_onnx())
    return out


def compute_onnx() -> dict[str, np.ndarray]:
    """The ONNX Runtime path (`hifilite.runtime`, `hifilite.tts.OnnxTTS`) on the same inputs, one thread."""
    import importlib.util
    import os
    import tempfile

    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
        return {}
    from hifilite.deploy.cache import acoustic_onnx, vocoder_onnx
    from hifilite.runtime import OnnxVocoder
    from hifilite.tts import OnnxTTS

    out: dict[str, np.ndarray] = {}
    before = os.environ.get("HIFILITE_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["HIFILITE_CACHE"] = cache
        try:
            for name in STREAMED:
                voc = OnnxVocoder(vocoder_onnx(name), threads=1)
                mel = voc.mel(probe_signal(voc.sample_rate))
                out[f"onnx/{name}/mel"] = mel[0]
                out[f"onnx/{name}/audio"] = voc(mel)[0]
                out[f"onnx/{name}/stream"] = np.concatenate([p[0] for p in voc.stream(
                    mel[..., i:i + STREAM_CHUNK] for i in range(0, mel.shape[-1], STREAM_CHUNK))])
            for name in ACOUSTIC:
                tts = OnnxTTS(acoustic_onnx(name), vocoder_onnx(TTS_VOCODER), threads=1)
                for i, sentence in enumerate(SENTENCES):
                    out[f"onnx-tts/{name}/{i}/audio"] = tts(sentence)
        finally:
            if before is None:
                os.environ.pop("HIFILITE_CACHE", None)
            else:
                os.environ["HIFILITE_CACHE"] = before
    return out


def machine() -> dict[str, str]:
    """Where the arrays were computed: the torch build, its vector unit and the CPU (recorded, not
    trusted: equal fingerprints on two hosts have been seen to round differently)."""
    import torch

    from hifilite.measure import cpu_name

    return {"torch": torch.__version__, "cpu": torch.backends.cpu.get_cpu_capability(),
            "machine": platform.machine(), "processor": cpu_name()}


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {f"machine/{k}": np.asarray(v) for k, v in machine().items()}
    np.savez_compressed(path, **arrays, **meta)
    print(f"{path}: {path.stat().st_size / 1e3:.0f} kB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write the committed {REFERENCE.name}")
    ap.add_argument("--local", action="store_true",
                    help=f"write {LOCAL_REFERENCE.name} for bit-for-bit checks on this machine")
    args = ap.parse_args()
    arrays = compute()
    for key, value in arrays.items():
        print(f"{key:40s} {value.dtype} {tuple(value.shape)}")
    if args.write:
        write(REFERENCE, arrays)
    if args.local:
        write(LOCAL_REFERENCE, arrays)


if __name__ == "__main__":
    main()
