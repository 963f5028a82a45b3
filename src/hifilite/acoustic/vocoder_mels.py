"""An acoustic model's mels as vocoder training input: the HiFi-GAN fine-tuning recipe.

A vocoder trained on mels of recordings meets smoother mels in text-to-speech; fine-tuning it on the
acoustic model's own output, teacher-forced so that every frame lies over the recording's audio, is
how HiFi-GAN closes that gap (Kong et al., 2020, section 4.4). `write_vocoder_mels(model, corpus)`
writes, for the chosen splits of a prepared corpus,

    <corpus>/wavs/<id>.npy        float32 (n_mels, frames): the layout `hifilite train --mels npy` reads
    <corpus>/vocoder_mels.json    the model file, its step, the splits, the count

The corpus need not be the one the model was trained on, only the same voice and symbol table:
pitch and energy are normalised with the model's own statistics (what it saw in training), from
the same pitch extractor. Files of the right shape are kept, so an interrupted run resumes; a
corpus holding another model's mels is refused rather than mixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..data.acoustic_dataset import AcousticDataset
from ..data.corpora import load_split
from ..data.dataset import load_mel, mel_path
from ..data.feature_cache import read_stats
from ..errors import DataError
from ..io import save_npy
from .checkpoint import acoustic_file, load_acoustic
from .distil import check_teacher, forced_mels, read_manifest, write_manifest

INFO_NAME = "vocoder_mels.json"


def model_normalised(stats: dict[str, Any], model_stats: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The corpus's statistics with the model's pitch and energy normalisation (same extractor)."""
    if not model_stats:
        return stats
    mine, theirs = model_stats.get("pitch_backend"), stats.get("pitch_backend")
    if mine and theirs and mine != theirs:
        raise DataError(f"{name} was trained on {mine} pitch, the corpus's is from {theirs}: prepare it with "
                        f"`hifilite acoustic prepare --pitch {mine}`")
    return {**stats, **{k: model_stats[k] for k in ("pitch", "energy", "energy_log") if k in model_stats}}


def write_vocoder_mels(model: str | Path, corpus: str | Path, *, splits: Sequence[str] = ("train", "val", "test"),
                       batch_size: int = 8, progress: bool = True) -> dict[str, Any]:
    """Teacher-forced mels of `model` for every utterance of `splits`, at `wavs/<id>.npy`; returns
    the vocoder_mels.json data."""
    corpus = Path(corpus)
    stats = read_stats(corpus)
    path = acoustic_file(model)
    loaded = load_acoustic(path)
    check_teacher(None, loaded.symbols, stats, str(path))
    stats = model_normalised(stats, loaded.stats, str(path))
    info = {"model": str(path.resolve()), "step": loaded.extra.get("step"),
            "params": loaded.model.num_parameters(), "splits": list(splits)}
    missing = [split for split in splits if split not in stats["splits"]]
    if missing:
        raise DataError(f"{corpus}: no split {missing[0]!r} (it has {', '.join(stats['splits'])})")
    manifest = corpus / INFO_NAME
    old = read_manifest(manifest)
    if old is not None:
        if any(old.get(k) != info[k] for k in ("model", "step")):
            raise DataError(f"{corpus} holds vocoder mels of {old.get('model')} (step {old.get('step')}); "
                            f"remove {corpus}/wavs/*.npy and {manifest.name} to write another model's")
        info["splits"] = sorted(set(old.get("splits", [])) | set(splits))
    write_manifest(manifest, info)
    n_mels, count = int(stats["mel"]["n_mels"]), 0
    for split in splits:
        data = AcousticDataset(corpus, split, stats, energy=loaded.model.config.energy)
        targets = {u.id: mel_path(u) for u in load_split(corpus, split)}
        todo = []
        for i, uid in enumerate(data.ids):
            if targets[uid].is_file():
                try:
                    if load_mel(targets[uid], n_mels).shape[1] == int(data[i]["mel"].shape[0]):
                        continue
                except DataError:
                    pass
            todo.append(i)
        for uid, mel in forced_mels(loaded.model, data, todo, batch_size, progress, f"vocoder mels, {split}"):
            save_npy(targets[uid], mel.T.copy())
        count += len(data)
    info["utterances"] = count
    return info


__all__ = ["write_vocoder_mels", "model_normalised", "INFO_NAME"]
