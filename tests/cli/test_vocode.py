"""`hifilite vocode` end to end: outputs per input stem, one-line errors, no partial outputs."""

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from hifilite.cli import app


def test_vocode_files_and_folders(tmp_path, model):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    sf.write(src / "a.wav", 0.2 * np.sin(np.arange(44100) * 0.05), 44100)  # resampled to 22.05 kHz
    sf.write(src / "sub" / "b.flac", np.zeros((2205, 2)) + 0.01, 22050)    # stereo
    np.save(src / "c.npy", np.full((80, 12), -5.0, dtype=np.float32))       # acoustic-model mel
    res = CliRunner().invoke(app, ["vocode", str(src), "-o", str(tmp_path / "out"), "--model", model])
    assert res.exit_code == 0, res.output
    outs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outs == ["a.wav", "b.wav", "c.wav"]
    info = sf.info(tmp_path / "out" / "a.wav")
    assert info.samplerate == 22050 and info.frames == (22050 // 256) * 256
    assert sf.info(tmp_path / "out" / "c.wav").frames == 12 * 256


@pytest.mark.parametrize("kind,message", [("empty", "empty"), ("corrupt", "cannot decode"), ("nan", "NaN")])
def test_vocode_bad_input_one_line_error(tmp_path, model, kind, message):
    bad = tmp_path / ("bad.npy" if kind == "nan" else "bad.wav")
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "corrupt":
        bad.write_bytes(b"not audio at all" * 10)
    else:
        mel = np.zeros((80, 5), dtype=np.float32)
        mel[1, 1] = np.nan
        np.save(bad, mel)
    res = CliRunner().invoke(app, ["vocode", str(bad), "-o", str(tmp_path / "out"), "--model", model])
    assert res.exit_code != 0
    assert message in str(res.exception)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_vocode_unknown_model(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(2205), 22050)
    res = CliRunner().invoke(app, ["vocode", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o"), "--model", "nope"])
    assert res.exit_code != 0 and "unknown vocoder 'nope'" in str(res.exception) and "lj-v1" in str(res.exception)


def test_main_prints_one_line_and_exits_nonzero(tmp_path):
    import subprocess
    import sys

    (tmp_path / "e.wav").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "hifilite", "vocode", str(tmp_path / "e.wav"), "-o",
                           str(tmp_path / "o"), "--model", "joe-lite"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "empty" in lines[0]


def test_vocode_onnx_backend_matches_torch(tmp_path, model, monkeypatch):
    pytest.importorskip("onnxruntime")
    from typer.testing import CliRunner

    from hifilite.cli import app

    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "in.wav"
    sf.write(src, 0.2 * np.sin(np.arange(11025) * 0.07), 22050)
    outs = {}
    for backend in ("torch", "onnx"):
        res = CliRunner().invoke(app, ["vocode", str(src), "-o", str(tmp_path / backend), "--model", model,
                                       "--backend", backend, "--threads", "1"])
        assert res.exit_code == 0, res.output
        outs[backend], _ = sf.read(tmp_path / backend / "in.wav")
    assert outs["onnx"].shape == outs["torch"].shape
    assert np.abs(outs["onnx"] - outs["torch"]).max() <= 2 / 32768
    assert len(list((tmp_path / "cache" / "onnx").glob("vocoder-tiny-*.onnx"))) == 1
    res = CliRunner().invoke(app, ["vocode", str(src), "-o", str(tmp_path / "x"), "--model", "v2", "--backend", "onnx"])
    assert res.exit_code != 0 and "random weights" in str(res.exception)
