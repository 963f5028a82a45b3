"""What a user can get wrong on the command line ends in one line on stderr and a non-zero exit.

Inputs are never overwritten, corpora are checked before training, numeric options are range-checked
when the command line is parsed, and output paths that cannot be written are reported plainly.

Unwritable paths are made with a path *under a regular file* (`file.txt/x.wav`): the tests may run
as root, for whom chmod-based read-only folders are writable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import typer

from hifilite.cli import app, main
from hifilite.config import MelConfig

from tests.helpers.corpora import make_folder, make_ljspeech, make_vctk_092, write_audio


@pytest.fixture
def regular_file(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("a regular file\n")
    return path


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the real entry point in this process: (exit status, stdout, stderr)."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------------------- inputs are kept


def test_vocode_into_its_own_input_folder_is_refused(tmp_path, model, capsys):
    same = tmp_path / "same"
    write_audio(same / "a.wav", seed=1)
    write_audio(same / "b.wav", seed=2)
    before = {p.name: p.read_bytes() for p in same.iterdir()}
    code, _, err = cli(["vocode", same, "-o", same, "-m", model], capsys)
    one_line_error(code, err, "overwrite", "a.wav")
    assert {p.name: p.read_bytes() for p in same.iterdir()} == before


def test_vocode_one_file_into_its_folder_is_refused_but_an_npy_mel_is_not(tmp_path, model, capsys):
    write_audio(tmp_path / "a.wav")
    before = (tmp_path / "a.wav").read_bytes()
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", tmp_path, "-m", model], capsys)
    one_line_error(code, err, "overwrite")
    assert (tmp_path / "a.wav").read_bytes() == before
    # a mel's output is a new file beside it: allowed
    np.save(tmp_path / "m.npy", np.full((80, 6), -5.0, dtype=np.float32))
    code, _, err = cli(["vocode", tmp_path / "m.npy", "-o", tmp_path, "-m", model], capsys)
    assert code == 0, err
    assert sf.info(tmp_path / "m.wav").frames == 6 * 256


def test_vocode_through_a_symlinked_output_folder_is_refused(tmp_path, model, capsys):
    write_audio(tmp_path / "in" / "a.wav")
    (tmp_path / "link").symlink_to(tmp_path / "in")
    code, _, err = cli(["vocode", tmp_path / "in", "-o", tmp_path / "link", "-m", model], capsys)
    one_line_error(code, err, "overwrite")


def test_tts_output_equal_to_its_text_file_is_refused(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("Hello there.\n")
    code, _, err = cli(["tts", "--text-file", text, "-o", text, "--backend", "torch"], capsys)
    one_line_error(code, err, "overwrite")
    assert text.read_text() == "Hello there.\n"


def test_export_over_its_own_checkpoint_is_refused(tmp_path, model, capsys):
    onnx_named = tmp_path / "m.onnx"
    Path(model).rename(onnx_named)  # a checkpoint whose name ends in .onnx, exported onto itself
    before = onnx_named.read_bytes()
    code, _, err = cli(["export", onnx_named, "-o", onnx_named], capsys)
    one_line_error(code, err, "overwrite")
    assert onnx_named.read_bytes() == before


# ---------------------------------------------------------------------------- corpora up front


@pytest.mark.parametrize("layout", ["ljspeech", "vctk", "folder"])
def test_corrupt_file_in_a_corpus_is_found_before_training(tmp_path, layout):
    from hifilite.data.corpora import read_corpus
    from hifilite.data.dataset import VocoderDataset
    from hifilite.errors import DataError

    root = tmp_path / layout
    if layout == "ljspeech":
        make_ljspeech(root)
        bad = root / "wavs" / "LJ001-0002.wav"
    elif layout == "vctk":
        make_vctk_092(root)
        bad = root / "wav48_silence_trimmed" / "p226" / "p226_002_mic1.flac"
    else:
        make_folder(root)
        bad = root / "alice" / "a2.flac"
    utts = read_corpus(root)
    VocoderDataset(utts, mel=MelConfig(), segment_size=8192)  # a sound corpus passes
    bad.write_bytes(b"not audio at all" * 20)
    with pytest.raises(DataError, match="1 of .* audio file") as info:
        VocoderDataset(utts, mel=MelConfig(), segment_size=8192)
    assert bad.name in str(info.value)
    from hifilite.data.corpora import summarize_corpus

    assert summarize_corpus(root).unreadable == 1  # `corpus info` counts what training refuses
    bad.write_bytes(b"")
    with pytest.raises(DataError, match=bad.name):
        VocoderDataset(utts, mel=MelConfig(), segment_size=None)


def test_train_on_a_corpus_with_a_corrupt_wav_fails_before_the_first_step(tmp_path, capsys):
    root = make_ljspeech(tmp_path / "lj", seconds=0.3)
    from hifilite.data.corpora import load_split

    victim = load_split(root, "train")[0]  # an utterance the training loop would draw
    victim.wav_path.write_bytes(b"RIFF garbage" * 30)
    code, _, err = cli(["train", "--data", root, "--out", tmp_path / "run", "--preset", "lite", "--steps", "2",
                        "--batch-size", "1", "--segment-size", "2048", "--device", "cpu"], capsys)
    one_line_error(code, err, victim.wav_path.name, "cannot be read")
    assert not list((tmp_path / "run").rglob("*.pt")) and not (tmp_path / "run" / "generator.safetensors").exists()


# ----------------------------------------------------------------------------------- tts --rate


@pytest.mark.parametrize("rate", ["0", "-1", "0.1", "10", "100", "nan", "inf", "-inf"])
def test_tts_rate_out_of_range_is_refused_when_parsed(tmp_path, capsys, rate, monkeypatch):
    import hifilite.tts.synthesis as synthesis

    monkeypatch.setattr(synthesis.Synthesizer, "load", lambda *a, **k: pytest.fail("model loaded"))
    for backend in ("torch", "onnx"):
        code, _, err = cli(["tts", "Hello.", "-o", tmp_path / "x.wav", "--rate", rate, "--backend", backend], capsys)
        assert code == 2
        one_line_error(code, err, "--rate", "0.25")
        assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), 0.0, 100.0])
def test_speaker_refuses_a_rate_the_model_cannot_use(rate):
    from hifilite.tts.speaker import SentenceSpeaker
    from hifilite.errors import ConfigError

    class Probe(SentenceSpeaker):
        def mel_from_ids(self, ids, rate):  # pragma: no cover - must not be reached
            raise AssertionError("the model was called")

    with pytest.raises(ConfigError, match="rate"):
        Probe().mel("hello", rate=rate)


# ---------------------------------------------------------------------------- one error path


def test_vocode_output_under_a_regular_file(tmp_path, model, regular_file, capsys):
    write_audio(tmp_path / "a.wav")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", regular_file / "out", "-m", model], capsys)
    one_line_error(code, err, "file.txt")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", regular_file, "-m", model], capsys)
    one_line_error(code, err, "not a folder")


def test_tts_output_paths_that_cannot_be_written(tmp_path, regular_file, capsys, monkeypatch):
    import hifilite.tts.synthesis as synthesis

    monkeypatch.setattr(synthesis.Synthesizer, "load", lambda *a, **k: pytest.fail("model loaded"))
    code, _, err = cli(["tts", "Hello.", "-o", regular_file / "x.wav", "--backend", "torch"], capsys)
    one_line_error(code, err, "file.txt")
    (tmp_path / "folder").mkdir()
    code, _, err = cli(["tts", "Hello.", "-o", tmp_path / "folder", "--backend", "torch"], capsys)
    one_line_error(code, err, "is a folder")


def test_export_output_that_cannot_be_written(tmp_path, model, regular_file, capsys):
    code, _, err = cli(["export", model, "-o", regular_file / "x.onnx"], capsys)
    one_line_error(code, err, "file.txt")
    (tmp_path / "d.onnx").mkdir()
    code, _, err = cli(["export", model, "-o", tmp_path / "d.onnx"], capsys)
    one_line_error(code, err, "is a folder")


def test_vocode_onnx_with_an_unwritable_cache(tmp_path, model, regular_file, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("HIFILITE_CACHE", str(regular_file / "cache"))
    write_audio(tmp_path / "a.wav")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", model, "--backend", "onnx"],
                       capsys)
    one_line_error(code, err, "HIFILITE_CACHE")


@pytest.mark.parametrize("argv,option", [
    (["--chunk-frames", "-5"], "--chunk-frames"),
    (["--chunk-frames", "0"], "--chunk-frames"),
    (["--stream-frames", "0"], "--stream-frames"),
    (["--threads", "-1"], "--threads"),
    (["--threads", "0"], "--threads"),
    (["--device", "foo"], "--device"),
])
def test_vocode_bad_numbers_and_devices_are_refused_when_parsed(tmp_path, model, capsys, argv, option):
    write_audio(tmp_path / "a.wav")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", model, *argv], capsys)
    assert code == 2
    one_line_error(code, err, option)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["vocode", "evaluate", "train"])
def test_cuda_without_cuda_is_refused_when_parsed(tmp_path, model, capsys, monkeypatch, command):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write_audio(tmp_path / "a.wav")
    argv = {"vocode": ["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", model],
            "evaluate": ["evaluate", "-m", model, "--data", tmp_path],
            "train": ["train", "--data", tmp_path, "--out", tmp_path / "run"]}[command]
    code, _, err = cli([*argv, "--device", "cuda"], capsys)
    one_line_error(code, err, "--device", "CUDA")


@pytest.mark.parametrize("text", ["Hello\x00 there.", "Hello\x01 there.", "Bell\x07.", "Esc\x1b[31m red."])
def test_control_characters_in_text_are_one_line_errors(tmp_path, capsys, monkeypatch, text):
    from hifilite.text import check_text
    from hifilite.errors import HifiliteError

    with pytest.raises(HifiliteError, match="control character"):
        check_text(text)
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode())
    code, _, err = cli(["tts", "--text-file", path, "-o", tmp_path / "x.wav", "--backend", "torch"], capsys)
    one_line_error(code, err, "control character")
    assert not (tmp_path / "x.wav").exists()


def test_tabs_form_feeds_and_line_breaks_are_still_text():
    from hifilite.text import check_text

    assert check_text("One,\ttwo.\r\n\x0cThree.\v") == "One, two. Three."


def test_batch_vocode_goes_on_after_a_write_error(tmp_path, model, capsys):
    src = tmp_path / "in"
    for i, name in enumerate(("a", "b", "c")):
        write_audio(src / f"{name}.wav", seed=i)
    (tmp_path / "out" / "b.wav").mkdir(parents=True)  # occupied: b's output cannot be written
    code, _, err = cli(["vocode", src, "-o", tmp_path / "out", "-m", model], capsys)
    assert code == 1
    assert (tmp_path / "out" / "a.wav").is_file() and (tmp_path / "out" / "c.wav").is_file()
    assert "Traceback" not in err
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last.startswith("error: 1 of 3") and "b.wav" in last
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".part")]


def test_unexpected_errors_are_one_line_unless_debugging(tmp_path, model, capsys, monkeypatch):
    import hifilite.vocoder.api as api

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(api, "load_vocoder", broken)
    write_audio(tmp_path / "a.wav")
    argv = ["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", model]
    code, _, err = cli(argv, capsys)
    line = one_line_error(code, err, "something inside broke")
    assert "--debug" in line
    code, _, err = cli(["--debug", *argv], capsys)
    assert code == 1 and "Traceback" in err and "something inside broke" in err
    monkeypatch.setenv("HIFILITE_DEBUG", "1")
    code, _, err = cli(argv, capsys)
    assert code == 1 and "Traceback" in err


def test_installed_entry_point_prints_one_line(tmp_path):
    write_audio(tmp_path / "a.wav")
    proc = subprocess.run([sys.executable, "-m", "hifilite", "vocode", str(tmp_path / "a.wav"), "-o",
                           str(tmp_path / "o"), "--chunk-frames", "-5"], capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:") and "--chunk-frames" in lines[0]


# ------------------------------------------------------------------- every numeric option bounded


def _options(command, path: tuple[str, ...] = ()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _options(sub, (*path, name))
    else:
        for param in command.params:
            yield path, param


def test_every_numeric_option_has_a_checked_range():
    from hifilite.cli import _options as checks

    unchecked, seen = [], 0
    for path, param in _options(typer.main.get_command(app)):
        if param.type_descriptor.annotation not in (int, float):
            continue
        seen += 1
        bounded = param.min is not None or param.max is not None
        checked = getattr(param.callback, "__module__", None) == checks.__name__
        if not (bounded or checked):
            unchecked.append(f"{' '.join(path)} {param.opts[0]}")
    assert seen > 50 and not unchecked, unchecked


@pytest.mark.parametrize("argv", [
    ["bench", "-m", "v2", "--threads", "0"],
    ["bench", "-m", "v2", "--seconds", "0"],
    ["bench", "-m", "v2", "--seconds", "nan"],
    ["bench", "-m", "v2", "--repeats", "0"],
    ["train", "--data", "x", "--out", "y", "--steps", "0"],
    ["train", "--data", "x", "--out", "y", "--batch-size", "0"],
    ["train", "--data", "x", "--out", "y", "--num-workers", "-1"],
    ["acoustic", "train", "-o", "y", "--lr", "nan"],
    ["acoustic", "train", "-o", "y", "--lr", "-0.1"],
    ["acoustic", "search", "--data", "x", "-o", "y", "--samples", "0"],
    ["acoustic", "search", "--data", "x", "-o", "y", "--max-latency-ms", "inf"],
    ["acoustic", "prepare", "--data", "x", "--threads", "0"],
    ["evaluate", "-m", "v2", "--data", "x", "--limit", "0"],
    ["compress", "distil", "--data", "x", "-o", "y", "--steps", "-1"],
    ["compress", "run", "--data", "x", "-o", "y", "--bench-seconds", "-1"],
    ["corpus", "synth", "-o", "x", "-n", "0"],
    ["demo", "--threads", "0"],
    ["export", "v2", "-o", "x.onnx", "--calibration-items", "0"],
    ["export", "v2", "-o", "x.onnx", "--opset", "3"],
    ["tts", "Hi.", "-o", "x.wav", "--threads", "0"],
])
def test_numeric_options_are_checked_when_parsed(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(argv, capsys)
    assert code == 2
    one_line_error(code, err, argv[-2])
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------ silently accepted before


@pytest.mark.parametrize("value", [1e30, -1e30, 40.0])
def test_mels_of_absurd_magnitude_are_refused(tmp_path, model, capsys, value):
    from hifilite.errors import DataError
    from hifilite.vocoder.api import load_vocoder

    mel = np.full((80, 8), -5.0, dtype=np.float32)
    mel[3, 4] = value
    np.save(tmp_path / "m.npy", mel)
    code, _, err = cli(["vocode", tmp_path / "m.npy", "-o", tmp_path / "out", "-m", model], capsys)
    one_line_error(code, err, "m.npy", "log-mel")
    with pytest.raises(DataError, match="log-mel"):
        load_vocoder(model).infer(mel)


def test_onnx_runtime_refuses_mels_of_absurd_magnitude(tmp_path, model):
    pytest.importorskip("onnxruntime")
    from hifilite.deploy.export import export_onnx
    from hifilite.errors import DataError
    from hifilite.runtime import OnnxVocoder

    onnx_path, _ = export_onnx(model, tmp_path / "m.onnx")
    voc = OnnxVocoder(onnx_path)
    mel = np.full((80, 8), -5.0, dtype=np.float32)
    assert voc(mel).shape == (1, 8 * 256)
    mel[0, 0] = 1e30
    with pytest.raises(DataError, match="log-mel"):
        voc(mel)


def test_random_weight_preset_warns_but_still_vocodes(tmp_path, capsys):
    write_audio(tmp_path / "a.wav")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", "v2"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "random weights" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and "noise" in warnings[0]
    assert (tmp_path / "out" / "a.wav").is_file()


def test_trained_model_gives_no_random_weight_warning(tmp_path, model, capsys):
    write_audio(tmp_path / "a.wav")
    code, _, err = cli(["vocode", tmp_path / "a.wav", "-o", tmp_path / "out", "-m", model], capsys)
    assert code == 0 and "random weights" not in err


@pytest.mark.parametrize("argv", [
    ["vocode", "in.wav", "-o", "out", "--backend", "tensorrt"],
    ["vocode", "in.wav", "-o", "-", "--stdout-format", "mp3"],
    ["tts", "Hello.", "-o", "out.wav", "--backend", "cuda"],
    ["models", "--kind", "teacher"],
])
def test_every_choice_is_checked_when_the_command_line_is_parsed(argv, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    monkeypatch.chdir(tmp_path)  # nothing is read or written: the parser refuses first
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert argv[-1] in result.output and not list(tmp_path.iterdir())
