"""TTS benchmark library: every model on the same sentences, numbers checkable by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hifilite.evaluate.tts_bench import bench_tts, load_sentences, resolve_acoustic
from hifilite.evaluate.tts_report import markdown_report
from hifilite.data.features import prepare_features, read_stats
from hifilite.acoustic.models import durations_from_log
from hifilite.errors import ConfigError, ModelNotFoundError

from tests.helpers.aligned_corpus import make_aligned_corpus

A = "sep5/sep9;hidden=16;n_bins=8"
B = "sep1,ffn/attn2;hidden=16;n_bins=8;ffn_filter=32;energy=log"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = make_aligned_corpus(tmp_path_factory.mktemp("bench") / "c", n=6)
    prepare_features(root, progress=False)
    return root


def test_bench_tts_same_sentences_and_hand_checked_numbers(corpus, monkeypatch):
    import hifilite.evaluate.metrics as metrics

    # DNSMOS itself is tested with the metrics; here a stand-in that reads the length checks the plumbing
    monkeypatch.setattr(metrics, "dnsmos", lambda wav, sr: {"ovrl": 1.0 + len(wav) / sr})
    report = bench_tts(data_root=corpus, models={"a": A, "b": B}, vocoders=("joe-lite",), split="train", limit=2,
                       piper=True, dnsmos=True)
    assert report["sentences"] == read_stats(corpus)["splits"]["train"][:2]
    a, b = report["acoustic"]
    assert a["steps"] == 0 and b["steps"] == 0 and a["params"] != b["params"]
    sentences = load_sentences(corpus, "train", 2)
    assert report["ground_truth"]["dnsmos_ovrl_recording"] == pytest.approx(
        np.mean([1 + len(s.wav) / 22050 for s in sentences]))
    # reference durations: every model speaks exactly the recordings' frames
    frames = [int(s.durations.sum()) * 256 / 22050 for s in sentences]
    assert a["dnsmos_ovrl_joe-lite"] == pytest.approx(1 + np.mean(frames))
    for row in (a, b):
        assert row["acoustic_x_real_time"] > 0 and row["x_real_time_joe-lite"] > 0 and np.isfinite(row["dnsmos_ovrl_joe-lite"])
        assert row["x_real_time_joe-lite"] < row["acoustic_x_real_time"]  # the vocoder and front-end add time
    for row in (a, b):  # `hifilite tts --backend onnx` says the same amount of speech as the torch path
        torch_free, onnx_free = row["free_joe-lite"], row["free_onnx_joe-lite"]
        assert onnx_free["spoken"] == torch_free["spoken"] and onnx_free["x_real_time"] > 0
        assert onnx_free["seconds"] == pytest.approx(torch_free["seconds"])
    assert a["vs_a"]["fewer_params"] == 1.0 and b["vs_a"]["fewer_params"] == pytest.approx(a["params"] / b["params"])
    # mel L1 and duration error recomputed by hand for the random-weight model `a`
    stats = read_stats(corpus)
    model = resolve_acoustic(A, stats).model
    l1, l1_ref, n, err, m = 0.0, 0.0, 0, 0.0, 0
    with torch.inference_mode():
        for s in sentences:
            out = model(s.ids[None], durations=s.durations[None])
            l1 += float((out["mel"][0].T - s.mel).abs().sum())
            ref = model(s.ids[None], durations=s.durations[None], pitch=s.pitch[None], energy=s.energy["linear"][None])
            l1_ref += float((ref["mel"][0].T - s.mel).abs().sum())
            n += s.mel.numel()
            err += float((durations_from_log(out["log_duration"], out["src_mask"])[0] - s.durations).abs().sum())
            m += len(s.durations)
    assert a["mel_l1"] == pytest.approx(l1 / n, rel=1e-5)
    assert a["mel_l1_ref_variance"] == pytest.approx(l1_ref / n, rel=1e-5)
    assert a["mel_l1_ref_variance"] != a["mel_l1"]  # the reference pitch/energy reach the decoder
    model_b = resolve_acoustic(B, stats).model  # energy=log: its reference energy is on the log scale
    assert model_b.config.energy == "log"
    l1_ref = l1_energy = 0.0
    with torch.inference_mode():
        for s in sentences:
            assert not torch.allclose(s.energy["log"], s.energy["linear"])
            ref = model_b(s.ids[None], durations=s.durations[None], pitch=s.pitch[None], energy=s.energy["log"][None])
            l1_ref += float((ref["mel"][0].T - s.mel).abs().sum())
            ref = model_b(s.ids[None], durations=s.durations[None], energy=s.energy["log"][None])
            l1_energy += float((ref["mel"][0].T - s.mel).abs().sum())
    assert b["mel_l1_ref_variance"] == pytest.approx(l1_ref / n, rel=1e-5)
    assert b["mel_l1_ref_energy"] == pytest.approx(l1_energy / n, rel=1e-5)
    assert a["duration_mae_frames"] == pytest.approx(err / m, rel=1e-5)
    piper = report["piper"]
    assert piper["params"] > 1_000_000 and piper["x_real_time"] > 0 and np.isfinite(piper["dnsmos_ovrl"])
    assert a["vs_piper"]["joe-lite"] == pytest.approx(a["x_real_time_joe-lite"] / piper["x_real_time"])
    md = markdown_report(report)
    assert "| a (`sep5/sep9;hidden=16;predictor=conv;n_bins=8`) | 0 |" in md and "Piper" in md and "copy-synthesis" in md


def test_bench_tts_bad_input(corpus):
    with pytest.raises(ModelNotFoundError, match="not one of joe-lightspeech-10h"):
        bench_tts(data_root=corpus, models={"x": "nonsense"}, vocoders=("joe-lite",), piper=False, dnsmos=False)
    with pytest.raises(ConfigError, match="split"):
        load_sentences(corpus, "dev")
    with pytest.raises(ConfigError, match="at least one"):
        bench_tts(data_root=corpus, models={}, piper=False)
    with pytest.raises(ConfigError, match="acoustic_passes"):
        bench_tts(data_root=corpus, models={"a": A}, vocoders=("joe-lite",), piper=False, acoustic_passes=0)


def test_tts_vs_piper_speaks_every_text_with_both(corpus, tmp_path, monkeypatch):
    import dataclasses

    import hifilite.evaluate.metrics as metrics
    from hifilite.evaluate.speaking import tts_vs_piper
    from hifilite.acoustic.checkpoint import save_acoustic
    from hifilite.config import GENERATOR_PRESETS, MelConfig
    from hifilite.data.corpora import load_split
    from hifilite.vocoder.checkpoint import save_generator
    from hifilite.vocoder.generator import Generator

    pytest.importorskip("piper")
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(metrics, "dnsmos", lambda wav, sr: {"ovrl": 1.0 + len(wav) / sr})
    loaded = resolve_acoustic(A, read_stats(corpus))
    with torch.no_grad():
        loaded.model.duration.linear.bias.fill_(1.0)  # a few frames per phoneme, so there is speech
    model = save_acoustic(tmp_path / "a.safetensors", loaded.model, symbols=loaded.symbols, stats=loaded.stats,
                          mel=loaded.mel, extra={})
    cfg = dataclasses.replace(GENERATOR_PRESETS["v2"], upsample_initial_channel=32)
    voc = save_generator(tmp_path / "v.safetensors", Generator.from_config(cfg).remove_weight_norm(), cfg, MelConfig())
    texts = [u.text for u in load_split(corpus, "train")[:2]]
    res = tts_vs_piper(texts, model=model, vocoder=voc, wav_dir=tmp_path / "wavs")
    ours, piper = res["systems"]
    assert res["texts"] == 2 and ours["system"].startswith("hifilite") and piper["system"].startswith("Piper")
    assert sorted(p.name for p in (tmp_path / "wavs").iterdir()) == ["hifilite-0.wav", "hifilite-1.wav",
                                                                     "piper-0.wav", "piper-1.wav"]
    for row, prefix in ((ours, "hifilite"), (piper, "piper")):
        import soundfile as sf

        lengths = [sf.info(tmp_path / "wavs" / f"{prefix}-{i}.wav").duration for i in range(2)]
        assert row["seconds"] == pytest.approx(sum(lengths), rel=1e-3) and row["x_real_time"] > 0
        assert row["dnsmos_ovrl"] == pytest.approx(1.0 + np.mean(lengths), rel=1e-3)
    assert res["speedup_vs_piper"] == pytest.approx(ours["x_real_time"] / piper["x_real_time"])
    with pytest.raises(ConfigError):
        tts_vs_piper([], model=model, vocoder=voc)


def _log_run(run, points, start_step=0):
    from hifilite.train.logging import RunLogger

    logger = RunLogger(log_dir=run / "logs", total_steps=1000, start_step=start_step, enabled=True)
    for step, value in points:
        logger.scalars({"mel/loss": value}, step, split="val")
    logger.close()


def test_learning_curves_compare_runs_at_equal_steps(tmp_path):
    from hifilite.evaluate.tts_report import curves_markdown, learning_curves
    from hifilite.errors import DataError

    big, small = tmp_path / "big", tmp_path / "small"
    _log_run(big, [(200, 1.0), (400, 0.8), (600, 0.7)])
    # an interrupted run: it logged 400 and 600, then resumed from its step-400 checkpoint
    _log_run(small, [(200, 1.2), (400, 0.9), (600, 0.99)])
    _log_run(small, [(600, 0.77), (800, 0.7)], start_step=400)
    curves = learning_curves({"big": big, "small": small})
    assert curves["curves"]["small"] == [[200, pytest.approx(1.2)], [400, pytest.approx(0.9)],
                                         [600, pytest.approx(0.77)], [800, pytest.approx(0.7)]]
    assert [row["step"] for row in curves["equal_steps"]] == [200, 400, 600]
    assert curves["equal_steps"][2]["relative"]["small"] == pytest.approx(0.1, abs=1e-6)
    md = curves_markdown(curves)
    assert "| 600 | 0.700 | 0.770 (+10.0 %) |" in md and "small 0.700 at step 800" in md
    with pytest.raises(DataError, match="no scalar 'pitch/loss'"):
        learning_curves({"big": big}, tag="pitch/loss")
    with pytest.raises(DataError, match="no TensorBoard logs"):
        learning_curves({"none": tmp_path / "none"})


class _Heard:
    """A stand-in recogniser (pocketsphinx itself is tested in test_intelligibility): it hears one word,
    "utterance", in any non-empty audio, and records the length of every wav it is given."""

    calls: list[int] = []

    def __init__(self):
        self.seconds = self.compute_s = 0.0
        type(self).calls = []

    @property
    def x_real_time(self):
        return 10.0

    def __call__(self, wav, sr):
        type(self).calls.append(len(wav))
        return "utterance" if len(wav) else ""


def test_bench_tts_intelligibility_plumbing_on_a_heldout_corpus(corpus, tmp_path, monkeypatch):
    import hifilite.evaluate.intelligibility as intelligibility
    from hifilite.evaluate.tts_bench import check_pitch_backend, reference_variance
    from hifilite.acoustic.checkpoint import save_acoustic
    from hifilite.acoustic.task import model_stats
    from hifilite.train.state import TrainState, save_checkpoint

    monkeypatch.setattr(intelligibility, "Recognizer", _Heard)
    stats = read_stats(corpus)
    loaded = resolve_acoustic(A, stats)
    with torch.no_grad():
        loaded.model.duration.linear.bias.fill_(1.0)  # a few frames per phoneme: it speaks every sentence
    run = tmp_path / "run"
    speaking = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    silent = {**speaking, "duration.linear.bias": torch.full_like(speaking["duration.linear.bias"], -20.0)}
    for step, weights in ((10, silent), (20, speaking)):
        save_checkpoint(run, state=TrainState(step=step), task_state={"model": weights}, rng=[], config={}, keep=3)
    model = save_acoustic(run / "acoustic.safetensors", loaded.model, symbols=loaded.symbols, stats=loaded.stats,
                          mel=loaded.mel, extra={"step": 20})

    # a corpus of held-out sentences is all test: split "all" takes every utterance, in id order
    everything = sorted(i for ids in stats["splits"].values() for i in ids)
    report = bench_tts(data_root=corpus, models={"a": str(model)}, vocoders=("joe-lite",), split="all", limit=3,
                       piper=True, dnsmos=False, onnx=False, acoustic_passes=1, diagnose=True, wer_runs={"run": run})
    assert report["sentences"] == everything[:3]
    sentences = load_sentences(corpus, "all", 3)
    # every reference normalises to two words ("utterance one"); the stand-in hears one of them
    heard = report["intelligibility"]
    assert set(heard) == {"recordings", "recordings through joe-lite", "a + joe-lite, ref. durations",
                          "a + joe-lite, ref. durations and energy", "a + joe-lite, ref. durations, pitch and energy",
                          "a + joe-lite", "run at step 10", "run at step 20", "Piper en_US-joe-medium"}
    for name, result in heard.items():
        assert result["words"] == 6 and [r["id"] for r in result["rows"]] == everything[:3]
        assert result["rows"][0]["hypothesis"] in ("utterance", "")
    assert report["ground_truth"]["wer_recording"] == 0.5 and report["ground_truth"]["wer_copy_joe-lite"] == 0.5
    row = report["acoustic"][0]
    assert row["wer_joe-lite"] == row["wer_ref_energy_joe-lite"] == row["wer_ref_variance_joe-lite"] == 0.5
    assert row["free_joe-lite"]["spoken"] == 3 and row["free_joe-lite"]["wer"] == 0.5
    assert report["piper"]["wer"] == 0.5
    # WER against training step: the step-10 weights say nothing, every word is deleted; at step 20
    # " zero", " one", " two" are missing: 13 of the 40 characters of "utterance zero" ... "utterance two"
    assert report["wer_curves"]["run"] == [{"step": 10, "wer": 1.0, "cer": 1.0},
                                           {"step": 20, "wer": 0.5, "cer": pytest.approx(13 / 40)}]
    # the recogniser got the recordings, then speech with exactly the recordings' frames
    frames = [int(s.durations.sum()) * 256 for s in sentences]
    assert _Heard.calls[:3] == [len(s.wav) for s in sentences] and _Heard.calls[3:6] == frames
    assert heard["a + joe-lite, ref. durations"]["buckets"]["1-8"]["sentences"] == 3
    # teacher forcing uses the model's own statistics (here the corpus's: the same values)
    p, e = reference_variance(sentences[0], model_stats(stats), "linear")
    assert torch.allclose(p, sentences[0].pitch) and torch.allclose(e, sentences[0].energy["linear"])
    md = markdown_report(report)
    assert "WER (joe-lite)" in md and "| a | 50.0 % | 50.0 % | 50.0 % | 50.0 % |" in md
    assert "| recordings | 50.0 % |" in md and "| 10 | 100.0 % |" in md and "(every utterance" in md
    with pytest.raises(ConfigError, match="split"):
        load_sentences(corpus, "everything")
    with pytest.raises(ConfigError, match="wer"):
        bench_tts(data_root=corpus, models={"a": A}, vocoders=("joe-lite",), piper=False, wer=False, diagnose=True)
    # teacher-forced pitch from another extractor than the model's would diagnose nothing
    other = "pyin" if stats["pitch_backend"] == "pyworld" else "pyworld"
    with pytest.raises(ConfigError, match=f"--pitch {other}"):
        check_pitch_backend("m", {**model_stats(stats), "pitch_backend": other}, stats)
    check_pitch_backend("m", model_stats(stats), stats)


def test_acoustic_train_keeps_as_many_checkpoints_as_asked_for_a_wer_curve(corpus, tmp_path):
    import json

    from hifilite.cli import main
    from hifilite.train.state import list_checkpoints

    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(run), "--arch", A, "--steps", "4",
              "--batch-size", "2", "--checkpoint-interval", "1", "--keep-checkpoints", "4", "--threads", "1",
              "--device", "cpu"])
    assert exc.value.code in (0, None)
    assert [step for step, _ in list_checkpoints(run)] == [1, 2, 3, 4]  # the default would keep 2, 3, 4
    assert json.loads((run / "config.json").read_text())["train"]["keep_checkpoints"] == 4
