"""`hifilite tts` end to end: tiny trained acoustic model + a small vocoder; errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
import torch

from hifilite.data.features import prepare_features
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.checkpoint import save_acoustic
from hifilite.tts.synthesis import Synthesizer
from hifilite.acoustic.task import config_for_corpus, model_stats
from hifilite.data.features import read_stats
from hifilite.cli import main

from tests.helpers.aligned_corpus import make_aligned_corpus

pytest.importorskip("piper")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """An untrained tiny model for the corpus, with durations biased to a few frames per id."""
    root = make_aligned_corpus(tmp_path_factory.mktemp("tts") / "c", n=3)
    prepare_features(root, progress=False)
    stats = read_stats(root)
    torch.manual_seed(0)
    model = AcousticModel.from_config(config_for_corpus(parse_arch("sep5/sep5;hidden=16;n_bins=8"), stats))
    with torch.no_grad():
        model.duration.linear.bias.fill_(1.0)  # ~1.7 frames per id
    return save_acoustic(root / "m.safetensors", model, symbols=stats["symbols"], stats=model_stats(stats),
                         mel=stats["mel"], extra={})


def test_synthesizer_rate_and_sentences(model_path):
    synth = Synthesizer.load(model_path, "v2")
    assert synth.sentences("Dr. Smith paid $5. Then he left!") == ["Doctor Smith paid five dollars.", "Then he left!"]
    normal = synth("Hello there, my friend.")
    slow = synth("Hello there, my friend.", rate=0.5)
    assert normal.dtype == np.float32 and np.isfinite(normal).all()
    assert len(normal) % 256 == 0 and len(slow) > 1.6 * len(normal)
    two = synth("Hello there, my friend. Hello there, my friend.")
    assert len(two) == 2 * len(normal) + int(0.2 * 22050)


def test_tts_cli_file_stdout_and_errors(model_path, tmp_path, capsysbinary):
    out = tmp_path / "a.wav"
    main_args = ["tts", "It costs $3.50 on the 2nd of May.", "-o", str(out), "-m", str(model_path), "--vocoder", "v2",
                 "--threads", "1"]
    with pytest.raises(SystemExit) as exc:
        main(main_args)
    assert exc.value.code in (0, None)
    audio, sr = sf.read(out)
    assert sr == 22050 and len(audio) > 256
    text_file = tmp_path / "t.txt"
    text_file.write_text("First sentence here. And a second one!\n\nA new paragraph.", encoding="utf-8")
    capsysbinary.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["tts", "--text-file", str(text_file), "-o", "-", "-m", str(model_path), "--vocoder", "v2", "--rate", "1.3"])
    assert exc.value.code in (0, None)
    data = capsysbinary.readouterr().out
    wav, sr = sf.read(io.BytesIO(data))
    assert sr == 22050 and len(wav) > 2 * int(0.2 * 22050)
    for bad in (["tts", "   ", "-o", str(tmp_path / "b.wav"), "-m", str(model_path), "--vocoder", "v2"],
                ["tts", "你好", "-o", str(tmp_path / "b.wav"), "-m", str(model_path), "--vocoder", "v2"],
                ["tts", "hi", "-o", str(tmp_path / "b.wav"), "-m", str(tmp_path / "none.safetensors")],
                ["tts", "hi", "-o", str(tmp_path / "b.wav"), "-m", str(model_path), "--rate", "0"],
                ["tts", "-o", str(tmp_path / "b.wav"), "-m", str(model_path)]):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == (2 if "--rate" in bad else 1), bad  # a rate out of range does not parse
    assert not (tmp_path / "b.wav").exists()


@pytest.fixture(scope="module")
def small_vocoder(tmp_path_factory):
    """A narrow V2-style generator saved in our format (a file: exportable and cacheable)."""
    import dataclasses

    from hifilite.config import GENERATOR_PRESETS, MelConfig
    from hifilite.vocoder.checkpoint import save_generator
    from hifilite.vocoder.generator import Generator

    pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    cfg = dataclasses.replace(GENERATOR_PRESETS["v2"], upsample_initial_channel=32)
    gen = Generator.from_config(cfg)
    gen.remove_weight_norm()
    return save_generator(tmp_path_factory.mktemp("voc") / "small.safetensors", gen, cfg, MelConfig())


def test_onnx_tts_equals_torch(model_path, small_vocoder, tmp_path):
    from hifilite.acoustic.checkpoint import load_acoustic
    from hifilite.deploy.export import export_onnx
    from hifilite.tts import OnnxTTS

    text = "Dr. Smith paid $5. Then he left!"
    torch_tts = Synthesizer.load(model_path, small_vocoder)
    acoustic, _ = export_onnx(load_acoustic(model_path), tmp_path / "a.onnx")
    vocoder, _ = export_onnx(small_vocoder, tmp_path / "v.onnx")
    onnx_tts = OnnxTTS(acoustic, vocoder, threads=1)
    assert onnx_tts.sentences(text) == torch_tts.sentences(text)
    for rate in (1.0, 0.7):
        ref, got = torch_tts(text, rate=rate), onnx_tts(text, rate=rate)
        assert got.shape == ref.shape and got.dtype == np.float32
        assert np.abs(got - ref).max() < 1e-4


def test_tts_cli_onnx_backend_caches_exports(model_path, small_vocoder, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "m.safetensors"
    shutil.copyfile(model_path, model)

    def speak(out, backend):
        with pytest.raises(SystemExit) as exc:
            main(["tts", "Hello there, my friend.", "-o", str(out), "-m", str(model), "--vocoder", str(small_vocoder),
                  "--threads", "1", "--backend", backend])
        assert exc.value.code in (0, None)
        return sf.read(out)[0]

    onnx_audio = speak(tmp_path / "o.wav", "onnx")
    exports = sorted((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert [p.name.split("-")[0] for p in exports] == ["acoustic", "vocoder"]
    stamps = [p.stat().st_mtime_ns for p in exports]
    torch_audio = speak(tmp_path / "t.wav", "torch")
    assert np.abs(onnx_audio - torch_audio).max() <= 2 / 32768  # 16-bit files
    speak(tmp_path / "o2.wav", "auto")  # reuses both exports
    assert [p.stat().st_mtime_ns for p in exports] == stamps
    assert sorted((tmp_path / "cache" / "onnx").glob("*.onnx")) == exports
    # a changed checkpoint is a new export, not the stale graph
    from hifilite.acoustic.checkpoint import load_acoustic

    loaded = load_acoustic(model)
    with torch.no_grad():
        loaded.model.duration.linear.bias.add_(0.5)
    save_acoustic(model, loaded.model, symbols=loaded.symbols, stats=loaded.stats, mel=loaded.mel, extra={})
    longer = speak(tmp_path / "o3.wav", "onnx")
    assert len(list((tmp_path / "cache" / "onnx").glob("acoustic-*.onnx"))) == 2
    assert len(longer) > len(onnx_audio)


def test_tts_onnx_backend_refuses_presets(model_path, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as exc:
        main(["tts", "Hello.", "-o", str(tmp_path / "x.wav"), "-m", str(model_path), "--vocoder", "v2",
              "--backend", "onnx"])
    assert exc.value.code == 1 and not (tmp_path / "x.wav").exists()


def test_tts_auto_falls_back_to_torch_when_the_cache_is_not_writable(model_path, small_vocoder, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HIFILITE_CACHE", str(blocker / "cache"))  # cannot be created under a file
    out = tmp_path / "a.wav"
    with pytest.raises(SystemExit) as exc:
        main(["tts", "Hello there.", "-o", str(out), "-m", str(model_path), "--vocoder", str(small_vocoder),
              "--threads", "1"])
    assert exc.value.code in (0, None) and sf.info(out).frames > 0
    with pytest.raises(SystemExit) as exc:
        main(["tts", "Hello there.", "-o", str(tmp_path / "b.wav"), "-m", str(model_path), "--vocoder",
              str(small_vocoder), "--backend", "onnx"])
    assert exc.value.code == 1 and not (tmp_path / "b.wav").exists()
