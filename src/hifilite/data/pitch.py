"""F0 per mel frame (WORLD or pYIN), log-F0 interpolation and per-phoneme averaging, for the acoustic features.

Pitch: `pyworld` (DIO + StoneMask, the FastSpeech 2 recipe) when it imports; it does not import on
machines where setuptools no longer ships `pkg_resources`, and then `librosa.pyin` (probabilistic
YIN with a voicing HMM) is used, which gives a voiced/unvoiced decision as WORLD does. Unvoiced
frames are filled by linear interpolation of log-F0 between voiced neighbours before averaging per
phoneme, as in FastSpeech 2. Torch-free.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError

F0_MIN, F0_MAX = 60.0, 600.0  # Hz search range for speech



def _import_pyworld():
    """pyworld, imported without the deprecation warning its own `import pkg_resources` prints."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import pyworld
    return pyworld


def pitch_backend() -> str:
    """"pyworld" if it imports here, else "pyin" (librosa)."""
    try:
        _import_pyworld()
    except Exception:  # ImportError, or pyworld's own import of pkg_resources failing
        return "pyin"
    return "pyworld"


def frame_f0(wav: np.ndarray, sample_rate: int, hop_length: int, num_frames: int, backend: str) -> np.ndarray:
    """F0 in Hz per mel frame (0 where unvoiced), frame i centred on sample `i * hop + hop / 2`
    like the HiFi-GAN mel's frames."""
    if backend == "pyworld":
        pyworld = _import_pyworld()

        x = wav.astype(np.float64)
        period = 1000.0 * hop_length / sample_rate
        f0, t = pyworld.dio(x, sample_rate, f0_floor=F0_MIN, f0_ceil=F0_MAX, frame_period=period)
        f0 = pyworld.stonemask(x, f0, t, sample_rate)
        # pyworld frame j is centred on sample j * hop; ours on j * hop + hop / 2: average neighbours
        f0 = np.concatenate([f0, f0[-1:]])
        f0 = np.where((f0[:-1] > 0) & (f0[1:] > 0), 0.5 * (f0[:-1] + f0[1:]), np.maximum(f0[:-1], f0[1:]))
    elif backend == "pyin":
        import librosa

        f0, voiced, _ = librosa.pyin(wav[hop_length // 2:], fmin=F0_MIN, fmax=F0_MAX, sr=sample_rate,
                                     frame_length=4 * hop_length, hop_length=hop_length, center=True)
        f0 = np.where(voiced & np.isfinite(f0), f0, 0.0)
    else:
        raise ConfigError(f"pitch backend must be pyworld or pyin, not {backend!r}")
    f0 = np.asarray(f0, dtype=np.float64)[:num_frames]
    return np.pad(f0, (0, num_frames - len(f0)))


def interpolate_log_f0(f0: np.ndarray) -> np.ndarray:
    """log-F0 per frame with unvoiced frames (f0 <= 0) linearly interpolated (held at the ends);
    all zeros if nothing is voiced (such utterances get the mean pitch after normalisation)."""
    voiced = f0 > 0
    if not voiced.any():
        return np.zeros_like(f0, dtype=np.float64)
    idx = np.arange(len(f0))
    return np.interp(idx, idx[voiced], np.log(f0[voiced]))


def phoneme_average(values: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Mean of frame `values` over each phoneme's frames; 0 for phonemes with no frames."""
    durations = np.asarray(durations, dtype=np.int64)
    if int(durations.sum()) != len(values):
        raise DataError(f"durations sum to {int(durations.sum())} but there are {len(values)} frames")
    sums = np.add.reduceat(np.concatenate([values, [0.0]]), np.concatenate([[0], np.cumsum(durations)[:-1]]))
    return np.where(durations > 0, sums / np.maximum(durations, 1), 0.0)
