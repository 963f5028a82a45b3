"""Waveform augmentation: seeded and reproducible per (seed, step, index), and each transform does
what it says on signals whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hifilite.data.augment import (
    Augment,
    AugmentConfig,
    add_noise,
    apply_gain,
    change_speed,
    shift_formants,
    shift_pitch,
    tilt_spectrum,
)
from hifilite.errors import ConfigError

SR = 22050


def sine(freq: float, seconds: float = 0.5, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spec)])


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def voice(f0: float = 110.0, formant: float = 900.0, seconds: float = 0.75) -> np.ndarray:
    """A pulse train at `f0` through a two-pole resonance at `formant` Hz."""
    from scipy.signal import lfilter

    n = int(seconds * SR)
    pulses = np.zeros(n)
    pulses[:: int(round(SR / f0))] = 1.0
    r, theta = 0.97, 2 * np.pi * formant / SR
    out = lfilter([1.0], [1.0, -2 * r * np.cos(theta), r * r], pulses)
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def envelope_peak_hz(x: np.ndarray) -> float:
    """Frequency of the strongest harmonic region: the magnitude spectrum smoothed over 300 Hz."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    width = int(300 / (freqs[1] - freqs[0]))
    smooth = np.convolve(spec, np.ones(width) / width, mode="same")
    band = (freqs > 300) & (freqs < 4000)
    return float(freqs[band][np.argmax(smooth[band])])


def test_same_seed_same_output_different_seed_different() -> None:
    rng = np.random.default_rng(0)
    batch = (0.1 * rng.standard_normal((4, 8192))).astype(np.float32)
    config = AugmentConfig(speed_prob=1, pitch_prob=1, formant_prob=1, tilt_prob=1, gain_prob=1, noise_prob=1)
    a = Augment(config, seed=3)(batch, step=10)
    assert a.shape == batch.shape and a.dtype == np.float32
    assert np.array_equal(a, Augment(config, seed=3)(batch, step=10))
    assert not np.allclose(a, Augment(config, seed=4)(batch, step=10))
    assert not np.allclose(a, Augment(config, seed=3)(batch, step=11))
    assert not np.allclose(a[0], a[1] * rms(a[0]) / rms(a[1]))  # items differ within a batch
    # an item depends on (seed, step, index) only: the same row alone gives the same result
    alone, applied = Augment(config, seed=3).item(batch[2], 10, 2)
    assert np.array_equal(alone, a[2]) and set(applied) == {"speed", "pitch", "formant", "tilt", "gain", "noise"}
    t = Augment(config, seed=3)(torch.from_numpy(batch), step=10)
    assert isinstance(t, torch.Tensor) and torch.equal(t, torch.from_numpy(a))


def test_probabilities_zero_is_identity_and_draws_follow_them() -> None:
    off = AugmentConfig(speed_prob=0, pitch_prob=0, formant_prob=0, tilt_prob=0, gain_prob=0, noise_prob=0)
    x = sine(200.0, 0.4)
    out, applied = Augment(off, seed=1).item(x, 0, 0)
    assert applied == {} and np.array_equal(out, x)
    aug = Augment(AugmentConfig(), seed=0)
    counts = {k: 0 for k in ("speed", "pitch", "formant", "tilt", "gain", "noise")}
    for step in range(400):
        for k in aug.draw(aug.rng(step, 0)):
            counts[k] += 1
    c = AugmentConfig()
    for k, p in (("speed", c.speed_prob), ("pitch", c.pitch_prob), ("noise", c.noise_prob)):
        assert abs(counts[k] / 400 - p) < 0.08


def test_gain_scales_rms_by_the_factor() -> None:
    x = sine(300.0, amp=0.05)
    assert rms(apply_gain(x, -6.0)) / rms(x) == pytest.approx(10 ** (-6 / 20), rel=1e-5)
    out, applied = Augment(AugmentConfig(gain_prob=1, gain_db=(6.0, 6.0), speed_prob=0, pitch_prob=0,
                                         formant_prob=0, tilt_prob=0, noise_prob=0)).item(x, 0, 0)
    assert rms(out) / rms(x) == pytest.approx(10 ** (6 / 20), rel=1e-4) and applied["gain"] == 6.0
    loud, applied = Augment(AugmentConfig(gain_prob=1, gain_db=(20.0, 20.0), speed_prob=0, pitch_prob=0,
                                          formant_prob=0, tilt_prob=0, noise_prob=0)).item(sine(300, amp=0.5), 0, 0)
    assert np.abs(loud).max() <= 0.99 + 1e-6 and applied["gain"] < 20  # the peak limit


def test_tilt_changes_spectral_slope_not_level() -> None:
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)

    def slope(y: np.ndarray) -> float:  # high band over low band, dB
        spec = np.abs(np.fft.rfft(y)) ** 2
        f = np.fft.rfftfreq(len(y), 1 / SR)
        return 10 * np.log10(spec[(f > 7000) & (f < 10000)].mean() / spec[(f > 100) & (f < 1000)].mean())

    bright, dark = tilt_spectrum(x, 0.5), tilt_spectrum(x, -0.5)
    assert slope(bright) - slope(x) > 6 and slope(dark) - slope(x) < -6
    assert rms(bright) == pytest.approx(rms(x), rel=1e-4) and rms(dark) == pytest.approx(rms(x), rel=1e-4)


def test_speed_changes_length_and_pitch_and_pitch_keeps_length() -> None:
    x = sine(200.0, 1.0)
    fast = change_speed(x, 1.25)
    assert len(fast) == pytest.approx(len(x) / 1.25, abs=2)
    assert peak_hz(fast) == pytest.approx(250.0, abs=3)
    up = shift_pitch(x, 12.0)
    assert len(up) == len(x) and peak_hz(up) == pytest.approx(400.0, abs=6)
    out, _ = Augment(AugmentConfig(speed_prob=1, speed=(1.25, 1.25), pitch_prob=0, formant_prob=0, tilt_prob=0,
                                   gain_prob=0, noise_prob=0)).item(x, 0, 0)
    assert len(out) == len(x) and np.all(out[int(len(x) / 1.25) + 2:] == 0)  # padded at the end


def test_formant_shift_moves_envelope_keeps_pitch() -> None:
    x = voice(f0=110.0, formant=1500.0)
    up, down = shift_formants(x, 1.3), shift_formants(x, 0.8)
    assert len(up) == len(down) == len(x)
    assert envelope_peak_hz(x) == pytest.approx(1500, abs=100)
    assert envelope_peak_hz(up) == pytest.approx(1950, abs=150)
    assert envelope_peak_hz(down) == pytest.approx(1200, abs=150)
    # harmonics stay on multiples of f0: the autocorrelation peak is still at one period
    def period(y: np.ndarray) -> int:
        ac = np.correlate(y, y, mode="full")[len(y) - 1:]
        lo = int(SR / 300)
        return lo + int(np.argmax(ac[lo: int(SR / 60)]))
    assert period(up) == pytest.approx(period(x), abs=2)


def test_noise_at_snr() -> None:
    x = sine(300.0, 1.0)
    noisy = add_noise(x, 20.0, np.random.default_rng(0))
    assert 10 * np.log10(rms(x) ** 2 / rms(noisy - x) ** 2) == pytest.approx(20.0, abs=0.3)


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        Augment(AugmentConfig(pitch_prob=1.5))
    with pytest.raises(ConfigError):
        Augment(AugmentConfig(speed=(1.1, 0.9)))
    with pytest.raises(ConfigError):
        Augment(AugmentConfig(tilt=(-1.0, 0.5)))
