"""Pitch metrics: F0 error in cents and voiced/unvoiced F1 on signals whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hifilite.evaluate import metrics as M

SR = 22050


def hum(f0: float, seconds: float = 0.8, voiced: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """A harmonic tone at `f0`, sounding over the `voiced` fraction of the clip, noise floor elsewhere."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    mask = (t >= voiced[0] * seconds) & (t < voiced[1] * seconds)
    noise = 0.001 * np.random.default_rng(0).standard_normal(t.size)
    return (x * mask + noise).astype(np.float32)


def test_pitch_errors_know_a_semitone_and_voicing() -> None:
    ref = hum(150.0)
    same = M.pitch_errors(ref, ref, SR)
    assert same["f0_cents"] == pytest.approx(0.0, abs=1e-6) and same["vuv_f1"] == pytest.approx(1.0)
    up = M.pitch_errors(ref, hum(150.0 * 2 ** (1 / 12)), SR)  # one semitone = 100 cents
    assert up["f0_cents"] == pytest.approx(100.0, abs=15.0) and up["vuv_f1"] > 0.9
    half = M.pitch_errors(ref, hum(150.0, voiced=(0.0, 0.5)), SR)  # voiced only in its first half
    # exact answer 2/3; pYIN's voicing HMM holds on for ~20 frames into the noise floor (WORLD: ~0),
    # and the F0 it reports there is the noise's, so the F0 error is only bounded where both hum
    assert 0.6 < half["vuv_f1"] < 0.85 and np.isfinite(half["f0_cents"])
    first = slice(0, len(ref) // 2 - SR // 10)  # the voiced half, clear of the hang-over
    assert M.pitch_errors(ref[first], hum(150.0, voiced=(0.0, 0.5))[first], SR)["f0_cents"] < 15.0


def test_octave_jumps_are_gross_errors_and_leave_the_fine_error_small() -> None:
    ref = hum(150.0, seconds=1.6)
    est = ref.copy()
    cut = int(1.2 * SR)  # the last quarter an octave up: what a tracker's octave jump looks like
    est[cut:] = hum(300.0, seconds=1.6)[cut:]
    out = M.pitch_errors(ref, est, SR)
    assert out["gpe"] == pytest.approx(0.25, abs=0.04)
    assert out["fpe_cents"] < 15.0  # the frames that agree are near-exact
    assert out["f0_cents"] > 500.0  # the RMS figure alone is swamped by the jump (1200 cents on 25 %)
    sharp = M.pitch_errors(ref, hum(150.0 * 2 ** (1 / 12), seconds=1.6), SR)  # +100 cents: not gross
    assert sharp["gpe"] < 0.02 and sharp["fpe_cents"] == pytest.approx(100.0, abs=15.0)
    with pytest.warns(M.MetricWarning, match="gross pitch error"):
        fifth = M.pitch_errors(ref, hum(150.0 * 1.5, seconds=1.6), SR)  # +50 %: gross everywhere
    assert fifth["gpe"] == pytest.approx(1.0) and math.isnan(fifth["fpe_cents"])


def test_pitch_is_optional_and_expands_in_compute_all() -> None:
    ref = hum(200.0)
    assert "pitch" not in M.check_metrics(None)
    out = M.compute_all(ref, ref, SR, ["pitch", "stoi"])
    assert set(out) == {"f0_cents", "gpe", "fpe_cents", "vuv_f1", "stoi"}
    with pytest.warns(M.MetricWarning, match="reference has no voiced"):
        silent = M.pitch_errors(np.zeros(SR // 2, np.float32) + 1e-4, ref[: SR // 2], SR)
    assert math.isnan(silent["vuv_f1"])


def test_evaluate_models_on_chosen_utterances_with_pitch(tmp_path) -> None:
    import soundfile as sf

    from hifilite.data.corpora import load_split
    from hifilite.evaluate.runner import evaluate_models

    for spk, f0 in (("a", 120.0), ("b", 180.0)):
        for i in range(2):
            (tmp_path / spk).mkdir(exist_ok=True)
            sf.write(tmp_path / spk / f"u{i}.wav", hum(f0 + 10 * i), SR)
    (tmp_path / "splits.json").write_text('{"train": [], "val": [], "test": ["a/u0", "a/u1", "b/u0", "b/u1"]}')
    chosen = [u for u in load_split(tmp_path, "test") if u.id.endswith("u1")]
    res = evaluate_models(["v3"], tmp_path, metrics=["pitch", "stoi"], utterances=chosen)
    assert [r["id"] for r in res.rows] == ["a/u1", "b/u1"]
    assert all({"f0_cents", "vuv_f1", "stoi"} <= set(r) for r in res.rows)
    assert res.summary["v3"]["vuv_f1"]["n_nan"] == 0
