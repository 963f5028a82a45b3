"""The sentences of a prepared corpus that the text-to-speech benchmark speaks, with their reference
features (durations, mel, recording, pitch and energy), and those features in a model's own
normalisation (`hifilite.evaluate.tts_bench`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..acoustic.models import ENERGY_SCALES
from ..errors import ConfigError


@dataclass
class Sentence:
    id: str
    text: str
    ids: torch.Tensor  # (N,)
    durations: torch.Tensor  # (N,)
    mel: torch.Tensor  # (n_mels, T) ground truth
    wav: np.ndarray  # the recording
    pitch: torch.Tensor  # (N,) reference phoneme pitch, normalised by the corpus's train statistics
    energy: dict[str, torch.Tensor]  # energy scale (linear, log) -> (N,) reference energy, normalised
    log_f0: np.ndarray  # (N,) reference phoneme-mean log-F0 (0: none), for other models' statistics
    energy_raw: np.ndarray  # (N,) reference phoneme energy before normalisation


ALL = "all"  # every utterance of every split: a corpus of held-out sentences is all test


def split_ids(stats: dict[str, Any], split: str) -> list[str]:
    """The utterance ids of a split of a prepared corpus, or of all of them (`"all"`, id order)."""
    if split == ALL:
        return sorted(uid for ids in stats["splits"].values() for uid in ids)
    if split not in stats["splits"]:
        raise ConfigError(f"split must be one of {', '.join([*stats['splits'], ALL])}, not {split!r}")
    return list(stats["splits"][split])


def load_sentences(data_root: str | Path, split: str = "test", limit: int | None = None) -> list[Sentence]:
    """The sentences of one split (or `"all"`) of a prepared corpus, with their reference features."""
    from ..audio import load_audio
    from ..data.corpora import read_ljspeech
    from ..data.features import AcousticDataset, feature_dir, load_features, read_stats

    stats = read_stats(data_root)
    ids = split_ids(stats, split)
    ids = ids[:limit] if limit else ids
    if not ids:
        raise ConfigError(f"{data_root}: the {split} split is empty")
    scales = [e for e in ENERGY_SCALES if e == "linear" or "energy_log" in stats]
    data = {e: AcousticDataset(data_root, "test", stats, ids=ids, energy=e) for e in scales}
    utts = {u.id: u for u in read_ljspeech(data_root)}
    out = []
    for i, uid in enumerate(ids):
        item = data["linear"][i]
        wav, _ = load_audio(utts[uid].wav_path, int(stats["mel"]["sample_rate"]))
        energy = {e: item["energy"] if e == "linear" else data[e][i]["energy"] for e in scales}
        raw = load_features(feature_dir(data_root) / "features" / f"{uid}.npz")
        out.append(Sentence(uid, utts[uid].text, item["ids"], item["durations"], item["mel"].T, wav,
                            item["pitch"], energy, raw.pitch, raw.energy))
    return out


def reference_variance(s: Sentence, stats: dict[str, Any], energy: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The sentence's reference pitch and energy (each (N,)) normalised by a model's own statistics
    (`LoadedAcoustic.stats`), as its training data was: a model trained on another corpus than the
    benchmark's is teacher-forced with the values it would have seen for this speech. Pitch from
    another extractor than the model's is not comparable (see `check_pitch_backend`)."""
    from ..data.features import normalise_energy

    has = s.durations.numpy() > 0
    ps = stats["pitch"]
    pitch = np.where(has & (s.log_f0 > 0), (s.log_f0 - ps["mean"]) / ps["std"], 0.0)
    values = np.where(has, normalise_energy(s.energy_raw, stats, energy), 0.0)
    return torch.from_numpy(pitch.astype(np.float32)), torch.from_numpy(values.astype(np.float32))


__all__ = ["ALL", "Sentence", "split_ids", "load_sentences", "reference_variance"]
