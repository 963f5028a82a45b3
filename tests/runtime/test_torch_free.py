"""The torch-free runtime: same log-mel as the torch front-end, and vocoding with torch unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
import torch

from hifilite.audio import MelSpectrogram
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.deploy.export import export_onnx
from hifilite.runtime import LogMel
from hifilite.vocoder.api import load_vocoder
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.generator import Generator
from tests.helpers.corpora import speech_like

CONFIGS = [{}, {"fmax": None}, {"n_fft": 2048, "win_length": 1200, "hop_length": 300},
           {"sample_rate": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "n_mels": 64}]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_numpy_logmel_equals_the_torch_front_end(cfg):
    wav = speech_like(1.3, seed=1)
    ours = LogMel(**cfg)(wav)
    torch32 = MelSpectrogram(**cfg)(torch.from_numpy(wav)[None]).numpy()
    assert ours.shape == torch32.shape and ours.dtype == np.float32
    # Same algorithm: against the torch front-end run in float64 (with a float64 window) it is exact.
    exact = MelSpectrogram(**cfg).double()
    exact.window = torch.hann_window(exact.win_length, dtype=torch.float64)
    ref64 = exact(torch.from_numpy(wav.astype(np.float64))[None]).numpy()
    assert np.abs(ours - ref64).max() <= 1e-5
    # Against torch's float32 path: both round; near-silent bins amplify it through the log.
    assert np.abs(ours - torch32).max() <= 5e-4
    assert np.abs(ours - torch32).mean() <= 1e-5


def test_base_package_import_is_torch_free():
    code = "import sys, hifilite, hifilite.runtime, hifilite.runtime.streaming; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


BLOCK_TORCH = textwrap.dedent("""
    import sys
    class _NoTorch:  # behaves as if torch were not installed
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r}")
    sys.meta_path.insert(0, _NoTorch())
""")


def test_runtime_vocodes_without_torch(tmp_path):
    torch.manual_seed(0)
    cfg = GeneratorConfig(upsample_initial_channel=32)
    gen = Generator.from_config(cfg)
    with torch.no_grad():
        for name, p in gen.named_parameters():
            if "original1" in name:
                p.normal_(0.0, 0.05)
    model = save_generator(tmp_path / "g.safetensors", gen, cfg, MelConfig())
    onnx_path, _ = export_onnx(model, tmp_path / "g.onnx")
    wav_path = tmp_path / "in.wav"
    sf.write(wav_path, speech_like(1.5, seed=4), 22050, subtype="FLOAT")
    script = BLOCK_TORCH + textwrap.dedent(f"""
        import numpy as np
        try:
            import torch
            raise SystemExit("torch imported")
        except ModuleNotFoundError:
            pass
        from hifilite.runtime import OnnxVocoder
        voc = OnnxVocoder({str(onnx_path)!r}, threads=1)
        mel = voc.mel({str(wav_path)!r})
        audio = voc(mel)
        streamed = np.concatenate(list(voc.stream(mel[..., s:s + 7] for s in range(0, mel.shape[-1], 7))), -1)
        np.save({str(tmp_path / "mel.npy")!r}, mel)
        np.save({str(tmp_path / "audio.npy")!r}, audio)
        np.save({str(tmp_path / "streamed.npy")!r}, streamed)
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    voc = load_vocoder(model)
    ref_mel = voc.mel(wav_path)
    ref = voc(ref_mel).numpy()
    mel, audio, streamed = (np.load(tmp_path / f"{n}.npy") for n in ("mel", "audio", "streamed"))
    assert np.abs(mel - ref_mel.numpy()).max() <= 5e-4
    assert audio.shape == ref.shape and ref.std() > 0.02
    assert np.abs(audio - ref).max() <= 1e-4
    assert np.abs(streamed - ref).max() <= 1e-4


def test_runtime_extra_lists_what_the_runtime_imports():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    runtime = " ".join(project["optional-dependencies"]["runtime"])
    assert "torch" not in base and "torch" not in runtime
    for need in ("numpy", "soundfile", "soxr"):
        assert need in base
    for need in ("onnxruntime", "librosa"):
        assert need in runtime
