"""Seeded waveform augmentation for distillation: more voices than the data holds.

The teacher's output is a deterministic function of its input mel, so any transformed recording
has a free distillation target (the teacher's output of the transformed recording's mel). Each
transform is a plain function of a mono float32 array; `Augment` draws which ones to apply and
their amounts per batch item from a generator seeded by (seed, step, index), so a resumed run
sees exactly the augmentations the uninterrupted run would have seen, whatever the batch order.

Transforms, in the order they are applied (each with its own probability and range):

- speed: tape-speed change by resampling (soxr): pitch, formants and tempo all move by the factor,
  as a shorter or longer vocal tract speaking faster or slower would sound.
- pitch: phase-vocoder pitch shift at constant duration (`librosa.effects.pitch_shift`); the
  whole spectrum moves, formants included.
- formant: the spectral envelope (cepstrally smoothed log magnitude, per STFT frame) is warped
  along frequency by a ratio while the harmonics stay where they are: a formant shift at constant
  pitch. Together with `pitch`, it makes pitch-only shifts as well.
- tilt: first-order filter `y[n] = x[n] - a x[n-1]` (a > 0 brightens, a < 0 darkens), RMS kept, so
  a microphone or voice-quality slope without a level change.
- gain: level change in dB, limited so that the peak stays below 0.99.
- noise: white noise at a signal-to-noise ratio drawn in dB.

Items keep their length: a speed change's output is cut, or zero-padded at the end.
Cost per 8 192-sample segment on one CPU thread here: pitch about 7 ms, formant about 2 ms, the
others well under 1 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

FORMANT_FFT = 1024
FORMANT_HOP = 256
FORMANT_LIFTER = 24  # cepstral coefficients kept for the envelope (pitch harmonics lie above)
MAX_PEAK = 0.99


@dataclass(frozen=True)
class AugmentConfig:
    """Probability and range of each transform (ranges are inclusive (low, high) pairs, drawn
    uniformly; speed and formant ratios are drawn uniformly in log scale)."""

    speed_prob: float = 0.3
    speed: tuple[float, float] = (0.9, 1.1)
    pitch_prob: float = 0.5
    pitch_semitones: tuple[float, float] = (-5.0, 5.0)
    formant_prob: float = 0.4
    formant_ratio: tuple[float, float] = (0.85, 1.18)
    tilt_prob: float = 0.3
    tilt: tuple[float, float] = (-0.5, 0.5)
    gain_prob: float = 0.5
    gain_db: tuple[float, float] = (-12.0, 6.0)
    noise_prob: float = 0.2
    noise_snr_db: tuple[float, float] = (25.0, 45.0)

    def check(self) -> "AugmentConfig":
        for name in ("speed", "pitch", "formant", "tilt", "gain", "noise"):
            p = getattr(self, f"{name}_prob")
            if not 0.0 <= p <= 1.0:
                raise ConfigError(f"augment.{name}_prob must be in [0, 1], got {p}")
        for name in ("speed", "pitch_semitones", "formant_ratio", "tilt", "gain_db", "noise_snr_db"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ConfigError(f"augment.{name}: low {lo} is above high {hi}")
        if min(self.speed) <= 0 or min(self.formant_ratio) <= 0:
            raise ConfigError("augment.speed and augment.formant_ratio must be positive")
        if max(abs(t) for t in self.tilt) >= 1:
            raise ConfigError("augment.tilt coefficients must lie in (-1, 1)")
        return self


# ------------------------------------------------------------------------------------ transforms


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def change_speed(wav: np.ndarray, factor: float, sr: int = 22050) -> np.ndarray:
    """Play `wav` `factor` times faster (length / factor; pitch and formants x factor)."""
    if factor == 1.0:
        return wav
    import soxr

    return soxr.resample(wav, sr * factor, sr, quality="HQ").astype(np.float32, copy=False)


def shift_pitch(wav: np.ndarray, semitones: float, sr: int = 22050) -> np.ndarray:
    """Phase-vocoder pitch shift by `semitones` at constant length (spectrum and formants move)."""
    if semitones == 0.0:
        return wav
    import librosa

    out = librosa.effects.pitch_shift(wav, sr=sr, n_steps=float(semitones), n_fft=1024, hop_length=256,
                                      res_type="soxr_hq")
    return out.astype(np.float32, copy=False)


def shift_formants(wav: np.ndarray, ratio: float) -> np.ndarray:
    """Move the spectral envelope by `ratio` along frequency, keeping the harmonics (the pitch).

    Per STFT frame, the envelope is the log magnitude smoothed by keeping its first
    `FORMANT_LIFTER` cepstral coefficients; each frame's magnitude is multiplied by the warped
    envelope over the original one (E(f / ratio) / E(f)), phases untouched.
    """
    if ratio == 1.0 or wav.size == 0:
        return wav
    import librosa

    n = len(wav)
    spec = librosa.stft(wav, n_fft=FORMANT_FFT, hop_length=FORMANT_HOP)  # (F, frames)
    log_mag = np.log(np.abs(spec) + 1e-7)
    cep = np.fft.irfft(log_mag, axis=0)
    cep[FORMANT_LIFTER:-FORMANT_LIFTER + 1 or None] = 0.0
    env = np.fft.rfft(cep, axis=0).real  # (F, frames) smoothed log magnitude
    bins = np.arange(env.shape[0], dtype=np.float64)
    src = bins / ratio
    lo = np.clip(np.floor(src).astype(int), 0, env.shape[0] - 1)
    hi = np.clip(lo + 1, 0, env.shape[0] - 1)
    frac = (src - lo)[:, None]
    warped = (1 - frac) * env[lo] + frac * env[hi]
    gain = np.exp(np.clip(warped - env, -12.0, 12.0))
    out = librosa.istft(spec * gain, hop_length=FORMANT_HOP, n_fft=FORMANT_FFT, length=n)
    return out.astype(np.float32, copy=False)


def tilt_spectrum(wav: np.ndarray, coef: float) -> np.ndarray:
    """First-order filter `y[n] = x[n] - coef x[n-1]`, rescaled to the input's RMS: the spectral
    slope rises (coef > 0) or falls (coef < 0) by about 20 log10((1 + |coef|) / (1 - |coef|)) dB
    from 0 Hz to Nyquist."""
    if coef == 0.0 or wav.size == 0:
        return wav
    out = wav.astype(np.float32, copy=True)
    out[1:] -= coef * wav[:-1]
    before, after = _rms(wav), _rms(out)
    return out * np.float32(before / after) if after > 0 else out


def apply_gain(wav: np.ndarray, db: float) -> np.ndarray:
    """Scale by `db` decibels (amplitude x 10^(db / 20))."""
    return (wav * np.float32(10.0 ** (db / 20.0))).astype(np.float32, copy=False)


def add_noise(wav: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise whose power is `snr_db` below the signal's."""
    rms = _rms(wav)
    if rms == 0.0:
        return wav
    noise = rng.standard_normal(wav.shape).astype(np.float32)
    return wav + noise * np.float32(rms / 10.0 ** (snr_db / 20.0))


def _fit(wav: np.ndarray, length: int) -> np.ndarray:
    if len(wav) >= length:
        return np.ascontiguousarray(wav[:length], dtype=np.float32)
    return np.pad(wav, (0, length - len(wav))).astype(np.float32)


# -------------------------------------------------------------------------------------- Augment


class Augment:
    """Random augmentation of training items, reproducible from (seed, step, index).

    `augment(batch, step)` transforms each row of a (B, T) numpy array or torch tensor and returns
    the same type (a tensor stays on its device); `augment.item(wav, step, index)` does one item
    and also returns what was applied.
    """

    def __init__(self, config: AugmentConfig = AugmentConfig(), seed: int = 0, sample_rate: int = 22050) -> None:
        self.config = config.check()
        self.seed = int(seed)
        self.sample_rate = int(sample_rate)

    def rng(self, step: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(step), int(index)])

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        """The transforms and amounts for one item (every draw is made, so amounts do not shift
        when a probability changes)."""
        c = self.config
        rolls = rng.random(6)
        amounts = {
            "speed": float(np.exp(rng.uniform(*np.log(c.speed)))),
            "pitch": float(rng.uniform(*c.pitch_semitones)),
            "formant": float(np.exp(rng.uniform(*np.log(c.formant_ratio)))),
            "tilt": float(rng.uniform(*c.tilt)),
            "gain": float(rng.uniform(*c.gain_db)),
            "noise": float(rng.uniform(*c.noise_snr_db)),
        }
        probs = (c.speed_prob, c.pitch_prob, c.formant_prob, c.tilt_prob, c.gain_prob, c.noise_prob)
        return {k: v for (k, v), roll, p in zip(amounts.items(), rolls, probs) if roll < p}

    def item(self, wav: np.ndarray, step: int, index: int) -> tuple[np.ndarray, dict[str, float]]:
        """One augmented item (same length as `wav`) and the transforms applied to it."""
        rng = self.rng(step, index)
        applied = self.draw(rng)
        sr, n = self.sample_rate, len(wav)
        out = np.asarray(wav, dtype=np.float32)
        if "speed" in applied:
            out = _fit(change_speed(out, applied["speed"], sr), n)
        if "pitch" in applied:
            out = _fit(shift_pitch(out, applied["pitch"], sr), n)
        if "formant" in applied:
            out = shift_formants(out, applied["formant"])
        if "tilt" in applied:
            out = tilt_spectrum(out, applied["tilt"])
        if "gain" in applied:
            peak = float(np.abs(out).max()) if out.size else 0.0
            if peak > 0:  # never push the peak past MAX_PEAK (a louder item is a clipped item)
                applied["gain"] = min(applied["gain"], 20.0 * np.log10(MAX_PEAK / peak))
            out = apply_gain(out, applied["gain"])
        if "noise" in applied:
            out = add_noise(out, applied["noise"], rng)
        return np.ascontiguousarray(out, dtype=np.float32), applied

    def __call__(self, batch, step: int):
        """Augment every row of a (B, T) array or tensor; item i uses the generator of (seed, step, i)."""
        is_tensor = hasattr(batch, "detach")
        rows = batch.detach().cpu().numpy() if is_tensor else np.asarray(batch)
        if rows.ndim != 2:
            raise ValueError(f"expected a (batch, samples) array, got shape {tuple(rows.shape)}")
        out = np.stack([self.item(row, step, i)[0] for i, row in enumerate(rows)])
        if is_tensor:
            import torch

            return torch.from_numpy(out).to(device=batch.device, dtype=batch.dtype)
        return out
