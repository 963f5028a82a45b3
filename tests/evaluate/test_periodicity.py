"""torchcrepe pitch and periodicity metrics on tones whose pitch is known (CARGAN / Vocos protocol)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hifilite.evaluate import periodicity as P
from hifilite.evaluate.metrics import compute_all

SR = 22050


def voice(f0, seconds: float = 1.0) -> np.ndarray:
    """A harmonic tone with pitch `f0` (Hz, a number or a per-sample array)."""
    t = np.arange(int(seconds * SR)) / SR
    f = np.broadcast_to(np.asarray(f0, dtype=np.float64), t.shape)
    phase = 2 * np.pi * np.cumsum(f) / SR
    return (0.3 * sum(np.sin(k * phase) / k for k in range(1, 8))).astype(np.float32)


@pytest.fixture(scope="module")
def tracks():
    base = voice(200.0)
    return base, P.track(base, SR)


def test_tracker_finds_a_known_pitch(tracks):
    _, (f0, per) = tracks
    voiced = per > P.VOICED
    assert voiced.mean() > 0.9
    cents = 1200 * np.log2(f0[voiced] / 200.0)
    assert np.median(np.abs(cents)) < 15


def test_identical_signals_score_perfectly(tracks):
    base, (f0, per) = tracks
    m = P.compare(f0, per, f0, per)
    assert m["periodicity"] == 0 and m["crepe_vuv_f1"] == 1 and m["crepe_cents"] == 0 and m["crepe_gpe"] == 0


def test_an_octave_jump_is_a_gross_error_of_1200_cents(tracks):
    base, _ = tracks
    half = len(base) // 2
    f0 = np.where(np.arange(len(base)) < half, 200.0, 400.0)  # the second half an octave up
    m = P.periodicity_errors(base, voice(f0), SR)
    assert 0.4 < m["crepe_gpe"] < 0.6
    assert m["crepe_rms_cents"] > 700  # sqrt(1/2) x 1200 = 849 if the jump is exact
    assert m["crepe_vuv_f1"] > 0.9  # still voiced throughout
    up = P.periodicity_errors(base, voice(400.0), SR)
    assert abs(up["crepe_cents"] - 1200) < 50 and up["crepe_gpe"] > 0.95


def test_noise_is_unvoiced_and_changes_periodicity(tracks):
    base, _ = tracks
    noise = (0.1 * np.random.default_rng(0).standard_normal(len(base))).astype(np.float32)
    m = P.periodicity_errors(base, noise, SR)
    assert m["crepe_vuv_f1"] < 0.3 and m["periodicity"] > 0.3


def test_compute_all_names_the_periodicity_keys(tracks):
    base, _ = tracks
    out = compute_all(base, base, SR, ["periodicity"])
    assert set(out) == set(P.KEYS) and out["crepe_gpe"] == 0 and not math.isnan(out["periodicity"])
