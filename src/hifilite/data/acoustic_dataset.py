"""The acoustic models' training data: cached features of one split as normalised tensors, and batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import ConfigError, DataError
from .feature_cache import energy_stats, feature_dir, load_features, normalise_energy, read_stats
from .splits import SPLITS



class AcousticDataset(Dataset):
    """Cached utterances of one split with pitch and energy normalised by the train statistics
    (energy on the model's `energy` scale: linear or log).

    Items are dicts of tensors: ids (N,), durations (N,), pitch (N,), energy (N,), mel (T, n_mels)
    and the utterance id; with `teacher_mels` (a folder from `acoustic.distil.write_teacher_mels`)
    also teacher_mel (T, n_mels). Keys may be `(index, epoch)` tuples from `EpochSampler`.
    """

    def __init__(self, corpus: str | Path, split: str, stats: dict[str, Any] | None = None,
                 ids: Iterable[str] | None = None, teacher_mels: str | Path | None = None,
                 energy: str = "linear") -> None:
        self.dir = feature_dir(corpus)
        self.teacher_mels = Path(teacher_mels) if teacher_mels is not None else None
        self.stats = stats or read_stats(corpus)
        if split not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        self.ids = list(ids) if ids is not None else list(self.stats["splits"][split])
        self.energy = energy
        energy_stats(self.stats, energy)  # a clear error now rather than in a worker
        missing = [i for i in self.ids if not (self.dir / "features" / f"{i}.npz").is_file()]
        if missing:
            raise DataError(f"{self.dir}: {len(missing)} utterance(s) have no cached features "
                            f"(e.g. {missing[0]}); run `hifilite acoustic prepare` again")
        if self.teacher_mels is not None:
            missing = [i for i in self.ids if not (self.teacher_mels / f"{i}.npy").is_file()]
            if missing:
                raise DataError(f"{self.teacher_mels}: no teacher mel for {len(missing)} utterance(s) (e.g. "
                                f"{missing[0]}); run `hifilite acoustic teacher-mels` for this corpus")

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index = key[0] if isinstance(key, tuple) else key
        uid = self.ids[index]
        f = load_features(self.dir / "features" / f"{uid}.npz")
        ps = self.stats["pitch"]
        has = f.durations > 0
        pitch = np.where(has & (f.pitch > 0), (f.pitch - ps["mean"]) / ps["std"], 0.0)
        energy = np.where(has, normalise_energy(f.energy, self.stats, self.energy), 0.0)
        item = {
            "id": uid,
            "ids": torch.from_numpy(f.ids),
            "durations": torch.from_numpy(f.durations),
            "pitch": torch.from_numpy(pitch.astype(np.float32)),
            "energy": torch.from_numpy(energy.astype(np.float32)),
            "mel": torch.from_numpy(np.ascontiguousarray(f.mel.T)),
        }
        if self.teacher_mels is not None:

            item["teacher_mel"] = torch.from_numpy(read_teacher_mel(self.teacher_mels, uid, *item["mel"].shape))
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad to the longest item: ids/durations/pitch/energy (B, N), mel (and teacher_mel, when the
    items have it) (B, T, n_mels), with `src_lens` and `mel_lens` (B,). Padding positions are zero and must be masked by length
    (id 0 is also Piper's in-sequence pad symbol)."""
    n = max(len(it["ids"]) for it in items)
    t = max(len(it["mel"]) for it in items)
    b, n_mels = len(items), items[0]["mel"].shape[-1]
    out = {
        "id": [it["id"] for it in items],
        "ids": torch.zeros(b, n, dtype=torch.long),
        "durations": torch.zeros(b, n, dtype=torch.long),
        "pitch": torch.zeros(b, n),
        "energy": torch.zeros(b, n),
        "mel": torch.zeros(b, t, n_mels),
        "src_lens": torch.tensor([len(it["ids"]) for it in items]),
        "mel_lens": torch.tensor([len(it["mel"]) for it in items]),
    }
    for i, it in enumerate(items):
        k, m = len(it["ids"]), len(it["mel"])
        for name in ("ids", "durations", "pitch", "energy"):
            out[name][i, :k] = it[name]
        out["mel"][i, :m] = it["mel"]
    if all("teacher_mel" in it for it in items):
        out["teacher_mel"] = torch.zeros(b, t, n_mels)
        for i, it in enumerate(items):
            out["teacher_mel"][i, : len(it["teacher_mel"])] = it["teacher_mel"]
    return out


def read_teacher_mel(folder: Path, uid: str, frames: int, n_mels: int) -> np.ndarray:
    """The teacher's (frames, n_mels) mel of one utterance; DataError if missing or misshapen."""
    path = Path(folder) / f"{uid}.npy"
    try:
        mel = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no teacher mel for {uid}; run `hifilite acoustic teacher-mels` again") from None
    except Exception as exc:
        raise DataError(f"{path}: unreadable teacher mel ({exc})") from None
    if mel.shape != (frames, n_mels) or not np.isfinite(mel).all():
        raise DataError(f"{path}: teacher mel of shape {mel.shape} (or not finite), expected ({frames}, {n_mels})")
    return mel
