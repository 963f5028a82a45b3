"""`pip install "hifilite[runtime]"` in a fresh virtual environment, without torch, is enough for the
device path README shows: `OnnxVocoder` (file -> mel -> audio) and `OnnxTTS` (text -> audio).

Slow (about a minute and a half on 2 cores: most of it is pip installing onnxruntime, librosa and
their dependencies from the machine's package index/cache). The environment is made with
`python -m venv` without system site-packages, so nothing from the development install leaks in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]

DEVICE_SCRIPT = textwrap.dedent("""
    import importlib.util, sys
    from pathlib import Path

    assert importlib.util.find_spec("torch") is None, "torch is installed in the runtime environment"
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("torch imported")

    import numpy as np
    import hifilite
    from hifilite.runtime import OnnxVocoder
    from hifilite.tts import OnnxTTS

    work = Path(sys.argv[1])
    assert Path(hifilite.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), hifilite.__file__
    voc = OnnxVocoder(work / "v.onnx", threads=1)
    mel = voc.mel(work / "in.wav")
    np.save(work / "mel_rt.npy", mel)
    np.save(work / "voc_rt.npy", voc(mel))
    tts = OnnxTTS(work / "a.onnx", work / "v.onnx", threads=1)
    np.save(work / "tts_rt.npy", tts("Dr. Smith paid $5 on May 3rd. It is 5:30!"))
    assert "torch" not in sys.modules
    print("ok", hifilite.__file__)
""")


def _copy_project(dest: Path) -> Path:
    """What a source distribution holds, so that building the wheel writes nothing into the tree."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


@pytest.mark.slow
def test_runtime_extra_runs_onnx_vocoder_and_tts_without_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("piper")
    from hifilite.acoustic.checkpoint import load_acoustic
    from hifilite.deploy.export import export_onnx
    from hifilite.runtime import OnnxVocoder
    from hifilite.registry import DEFAULT_VOCODER
    from hifilite.tts import OnnxTTS

    work = tmp_path / "work"
    work.mkdir()
    export_onnx(DEFAULT_VOCODER, work / "v.onnx")  # the pair `hifilite tts` speaks with
    export_onnx(load_acoustic("joe-lightspeech-10h"), work / "a.onnx")
    t = np.arange(int(0.6 * 44100)) / 44100
    sf.write(work / "in.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t), 0.1 * np.sin(2 * np.pi * 900 * t)], 1),
             44100)  # stereo at another rate: the runtime mixes and resamples too

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    project = _copy_project(tmp_path / "project")
    install = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check",
                              f"{project}[runtime]"], capture_output=True, text=True, timeout=1500)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    run = subprocess.run([str(py), "-c", DEVICE_SCRIPT, str(work)], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("ok"), run.stdout[-2000:] + run.stderr[-3000:]

    voc = OnnxVocoder(work / "v.onnx", threads=1)
    mel = voc.mel(work / "in.wav")
    assert np.abs(np.load(work / "mel_rt.npy") - mel).max() <= 1e-5
    assert np.abs(np.load(work / "voc_rt.npy") - voc(mel)).max() <= 1e-5
    ref = OnnxTTS(work / "a.onnx", work / "v.onnx", threads=1)("Dr. Smith paid $5 on May 3rd. It is 5:30!")
    got = np.load(work / "tts_rt.npy")
    assert got.shape == ref.shape and got.size > 22050 and np.abs(got - ref).max() <= 1e-5
