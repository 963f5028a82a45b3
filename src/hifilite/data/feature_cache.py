"""The acoustic feature cache on disk: one `<id>.npz` per utterance and `stats.json` (see
`hifilite.data.features`), read back, and phoneme energy on the models' scales. Torch-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import atomic_write

FEATURE_VERSION = 2
FEATURE_DIR = "acoustic"



@dataclass
class Features:
    ids: np.ndarray  # (N,) int64
    durations: np.ndarray  # (N,) int64
    mel: np.ndarray  # (n_mels, T) float32
    pitch: np.ndarray  # (N,) float32, phoneme-mean log-F0
    energy: np.ndarray  # (N,) float32, phoneme-mean L2 norm of the STFT magnitude

    def check(self, where: str) -> "Features":
        n, t = len(self.ids), self.mel.shape[-1]
        if not (len(self.durations) == len(self.pitch) == len(self.energy) == n) or n == 0:
            raise DataError(f"{where}: ids, durations, pitch and energy differ in length")
        if int(self.durations.sum()) != t:
            raise DataError(f"{where}: durations sum to {int(self.durations.sum())}, the mel has {t} frames")
        for name in ("mel", "pitch", "energy"):
            if not np.isfinite(getattr(self, name)).all():
                raise DataError(f"{where}: {name} has NaN or infinite values")
        return self


def save_features(path: Path, feats: Features) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, version=np.int64(FEATURE_VERSION), ids=feats.ids, durations=feats.durations,
                     mel=feats.mel, pitch=feats.pitch, energy=feats.energy)
    atomic_write(path, write)


def load_features(path: Path) -> Features:
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != FEATURE_VERSION:
                raise DataError(f"{path}: feature version {int(z['version'])}, expected {FEATURE_VERSION}")
            feats = Features(*(z[k] for k in ("ids", "durations", "mel", "pitch", "energy")))
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: cannot read cached features ({exc}); run `hifilite acoustic prepare` again") from None
    return feats.check(str(path))


def feature_dir(corpus: str | Path) -> Path:
    return Path(corpus) / FEATURE_DIR


ENERGY_LOG_FLOOR = 1e-2  # added before the log: digital silence has energy 0


def log_energy(energy: np.ndarray) -> np.ndarray:
    """Phoneme energy on the `energy=log` scale."""
    return np.log(np.asarray(energy, dtype=np.float64) + ENERGY_LOG_FLOOR)


def energy_stats(stats: dict[str, Any], scale: str = "linear") -> dict[str, float]:
    """The train statistics of phoneme energy on `scale` (linear or log)."""
    key = "energy_log" if scale == "log" else "energy"
    if key not in stats:
        raise DataError("these features have no log-energy statistics (prepared by an older hifilite); run "
                        "`hifilite acoustic prepare --data CORPUS` again: it keeps the features and rewrites stats.json")
    return stats[key]


def normalise_energy(energy: np.ndarray, stats: dict[str, Any], scale: str = "linear") -> np.ndarray:
    """Phoneme energy as models see it: z-score of the train split on `scale` (linear or log)."""
    es = energy_stats(stats, scale)
    values = log_energy(energy) if scale == "log" else np.asarray(energy, dtype=np.float64)
    return (values - es["mean"]) / es["std"]


def read_stats(corpus: str | Path) -> dict[str, Any]:
    path = feature_dir(corpus) / "stats.json"
    if not path.is_file():
        raise DataError(f"{path}: no cached features; run `hifilite acoustic prepare --data {corpus}` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from None


def total_seconds(stats: dict[str, Any]) -> float:
    mel = stats["mel"]
    return stats["frames"] * mel["hop_length"] / mel["sample_rate"]
