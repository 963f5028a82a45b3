"""LightSpeech search: space encoding, predictor on a toy table, latency, one-iteration CLI that resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.checkpoint import load_acoustic
from hifilite.acoustic.search import (
    Arch, SearchSpace, fit_predictor, heldout_spearman, measure_latency_ms, rank_candidates,
)
from hifilite.cli import main
from hifilite.errors import ConfigError

SPACE = SearchSpace(settings="hidden=16;predictor=sep")


def toy_loss(space: SearchSpace, archs, noise: float, seed: int = 0) -> np.ndarray:
    """A synthetic 'validation loss': per-operation costs that differ by layer, an interaction
    (attention helps only in the encoder's first layer), and noise."""
    rng = np.random.default_rng(seed)
    cost = {op: rng.uniform(0, 1) for op in space.ops}
    y = []
    for a in archs:
        ops = (*a.encoder, *a.decoder)
        v = sum(cost[op] * (1 + 0.3 * i) for i, op in enumerate(ops))
        v -= 1.5 * a.encoder[0].startswith("attn")
        y.append(v)
    return np.array(y) + noise * rng.standard_normal(len(y))


def test_encoding_is_one_hot_plus_ordinals_and_specs_round_trip():
    arch = Arch(("sep5", "attn4", "ffn", "id"), ("sep25", "id", "attn8", "sep1"))
    x = SPACE.encode([arch])
    width = len(SPACE.ops) + 2
    assert x.shape == (1, 8 * width) and len(SPACE.feature_names()) == x.shape[1]
    layers = x.reshape(8, width)
    assert (layers[:, : len(SPACE.ops)].sum(1) == 1).all()
    assert layers[0, SPACE.ops.index("sep5")] == 1 and layers[0, -2] == 5 and layers[0, -1] == 0
    assert layers[1, -1] == 4 and layers[4, -2] == 25 and layers[3, -2:].sum() == 0
    spec = SPACE.spec(arch)
    assert SPACE.parse(spec) == arch
    assert parse_arch(spec).encoder == arch.encoder and parse_arch(spec).hidden == 16
    a = SPACE.sample_distinct(50, np.random.default_rng(3))
    assert len(set(a)) == 50 and a == SPACE.sample_distinct(50, np.random.default_rng(3))
    assert SPACE.sample_distinct(60, np.random.default_rng(3))[:50] == a  # prefix-stable: --samples can grow
    assert len(SearchSpace(1, 1, ("sep5", "id"), "hidden=8").sample_distinct(10, np.random.default_rng(0))) == 4


def test_bad_search_space_is_a_clear_error():
    with pytest.raises(ConfigError, match="sep3"):
        SearchSpace(ops=("sep5", "sep3"), settings="hidden=16")
    with pytest.raises(ConfigError, match="divisible"):
        SearchSpace(ops=("sep5", "attn8"), settings="hidden=12")
    with pytest.raises(ConfigError, match="at least one"):
        SearchSpace(encoder_layers=0)
    with pytest.raises(ConfigError, match="not an architecture"):
        SPACE.parse("sep5/sep5")
    with pytest.raises(ConfigError, match="at least 2"):
        fit_predictor(np.zeros((1, 3)), np.zeros(1))


def test_predictor_ranks_a_toy_table():
    rng = np.random.default_rng(0)
    archs = SPACE.sample_distinct(90, rng)
    y = toy_loss(SPACE, archs, noise=0.2)
    x = SPACE.encode(archs)
    rho, oof = heldout_spearman(x, y, seed=0)
    assert rho is not None and rho > 0.5 and oof.shape == y.shape
    # the same features with the losses shuffled carry no signal: the check can fail
    shuffled, _ = heldout_spearman(x, rng.permutation(y), seed=0)
    assert shuffled is None or shuffled < 0.3
    # the fitted predictor puts truly better architectures first among fresh candidates
    ranked = rank_candidates(fit_predictor(x, y), SPACE, 400, seed=1)
    assert len(ranked) == 400 and all(ranked[i][1] <= ranked[i + 1][1] for i in range(399))
    true = toy_loss(SPACE, [a for a, _ in ranked], noise=0.0)
    assert true[:20].mean() < np.median(true) - 0.5
    assert heldout_spearman(x[:3], y[:3]) == (None, None)


def test_latency_is_single_thread_and_orders_models():
    import torch

    big = AcousticModel.from_config(parse_arch("fastspeech2;hidden=128"))
    small = AcousticModel.from_config(parse_arch("id/sep1;hidden=16"))
    threads = torch.get_num_threads()
    slow = measure_latency_ms(big, phonemes=32, repeats=2)
    fast = measure_latency_ms(small, phonemes=32, repeats=2)
    assert torch.get_num_threads() == threads and big.training  # settings restored
    assert 0 < fast < slow
    with pytest.raises(ConfigError):
        measure_latency_ms(small, repeats=0)


def _search(corpus, out, samples, *extra):
    args = ["acoustic", "search", "--data", str(corpus), "-o", str(out), "--samples", str(samples), "--steps", "1",
            "--candidates", "40", "--top-k", "2", "--final-steps", "2", "--hidden", "16",
            "--settings", "predictor=sep;n_bins=8;ffn_filter=32", "--batch-size", "2", "--latency-phonemes", "12",
            "--latency-repeats", "1", "--layers", "2/2", *extra]
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code


def test_one_iteration_search_end_to_end_and_resume(corpus, tmp_path, capsys):
    import optuna

    out = tmp_path / "search"
    assert _search(corpus, out, 3) in (0, None)
    report = json.loads((out / "search.json").read_text())
    assert len(report["sampled"]) == 3 and all(r["val_mel_l1"] > 0 for r in report["sampled"])
    assert report["predictor"]["spearman_heldout"] is None  # 3 architectures: too few to correlate
    assert 1 <= len(report["finalists"]) <= 2 and report["chosen"] in report["finalists"]
    assert report["chosen"]["steps"] == 2 and report["reference"]["arch"] == "fastspeech2"
    assert report["chosen"]["latency_ms"] < report["reference"]["latency_ms"]
    assert (out / "search.png").stat().st_size > 0
    chosen = load_acoustic(out / "acoustic.safetensors")
    assert chosen.model.config.hidden == 16 and len(chosen.model.config.encoder) == 2
    assert chosen.extra["search"]["val_mel_l1"] == report["chosen"]["val_mel_l1"]
    stamps = {p: p.stat().st_mtime_ns for p in (out / "trials").glob("*/acoustic.safetensors")}
    assert len(stamps) == 3

    # resume with one more sample: the three trained ones are kept, one is added
    assert _search(corpus, out, 4) in (0, None)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    report2 = json.loads((out / "search.json").read_text())
    assert [r["arch"] for r in report2["sampled"][:3]] == [r["arch"] for r in report["sampled"]]
    assert report2["predictor"]["spearman_heldout"] is not None
    study = optuna.load_study(study_name="acoustic-samples", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 4 and {t.user_attrs["arch"] for t in study.trials} == {
        r["arch"] for r in report2["sampled"]}
    capsys.readouterr()

    # settings that change what was measured cannot continue the same study
    assert _search(corpus, out, 4, "--lr", "0.01") == 1
    assert "other train" in capsys.readouterr().err
    # an impossible budget is refused with the measured numbers
    assert _search(corpus, tmp_path / "s2", 2, "--max-latency-ms", "0.000001") == 1
    assert "latency budget" in capsys.readouterr().err


def test_the_search_scores_with_the_training_runs_validation_metric(corpus):
    """`validation_mel_l1` is the number the acoustic task logs as val/mel/loss (mean over utterances)."""
    import torch

    from hifilite.acoustic.search import validation_mel_l1
    from hifilite.acoustic.task import AcousticTask, config_for_corpus, default_train_config
    from hifilite.data.features import AcousticDataset, collate, read_stats

    stats = read_stats(corpus)
    torch.manual_seed(0)
    model = AcousticModel.from_config(config_for_corpus(parse_arch("sep5/sep5;hidden=16;n_bins=8"), stats))
    task = AcousticTask(model=model, train_config=default_train_config(), symbols=stats["symbols"], stats=stats)
    ids = stats["splits"]["val"] or stats["splits"]["test"]
    data = AcousticDataset(corpus, "val", stats, ids=ids, energy=model.config.energy)
    with torch.no_grad():
        logged = task.validate(collate([data[i]]) for i in range(len(data))).metrics["mel/loss"]
    assert validation_mel_l1(model, corpus, stats) == pytest.approx(logged, rel=1e-6)
