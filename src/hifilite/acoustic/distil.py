"""Sequence-level knowledge distillation for acoustic models: a trained teacher's mels as targets.

`write_teacher_mels(teacher, corpus, out)` runs the teacher (e.g. a trained FastSpeech 2) over the
train split, teacher-forced with the corpus's durations, pitch and energy, so its mel has exactly
the frames of the recording; it writes

    <out>/<id>.npy       float32 (T, n_mels) log-mel of the teacher
    <out>/teacher.json   the teacher file, its training step and parameters, the corpus, the count

A student trained with `train_acoustic(..., teacher_mels=out)` adds the term `mel/distil` (L1 to
the teacher's mel over valid frames) to its loss; validation still measures `mel/loss` against
the recordings. Sequence-level distillation (Kim & Rush, 2016) is how FastSpeech trained on an
autoregressive teacher's outputs; here it hands a small searched model the smoother targets a
large model has already learned.

The teacher must describe the corpus as the student sees it: the same symbol table and the same
pitch/energy normalisation (it was trained on this corpus), else a clear error. Writing skips
utterances whose file exists with the right shape, so an interrupted run resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from ..io import atomic_write, save_npy
from ..data.acoustic_dataset import AcousticDataset, collate, read_teacher_mel
from ..data.feature_cache import energy_stats, read_stats
from .checkpoint import acoustic_file, load_acoustic

INFO_NAME = "teacher.json"


def check_teacher(loaded_stats: dict[str, Any] | None, symbols: dict[str, Any], stats: dict[str, Any],
                  name: str) -> None:
    """DataError unless a model's symbol table (and pitch/energy statistics, unless None) are the corpus's."""
    if symbols.get("id_map") != stats["symbols"].get("id_map"):
        raise DataError(f"{name}: its symbol table differs from the corpus's; use a model trained on this corpus")
    if loaded_stats is None:
        return
    for key in ("pitch", "energy", "energy_log"):
        if key == "energy_log" and key not in loaded_stats:  # saved before log energy existed
            continue
        mine, theirs = loaded_stats.get(key, {}), energy_stats(stats, "log") if key == "energy_log" else stats[key]
        if any(abs(float(mine.get(k, np.nan)) - float(theirs[k])) > 1e-6 * max(1.0, abs(float(theirs[k])))
               for k in ("mean", "std")):
            raise DataError(f"{name}: its {key} normalisation differs from the corpus's; "
                            "use a model trained on this corpus")


def read_manifest(manifest: Path) -> dict[str, Any] | None:
    """The JSON record of a folder of written mels (None if there is none); DataError if unreadable."""
    if not manifest.is_file():
        return None
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{manifest}: invalid JSON ({exc})") from None


def write_manifest(manifest: Path, info: dict[str, Any]) -> None:
    """Write that record atomically."""
    atomic_write(manifest, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2), encoding="utf-8"))


def write_teacher_mels(teacher: str | Path, corpus: str | Path, out: str | Path, *, split: str = "train",
                       batch_size: int = 8, progress: bool = True) -> dict[str, Any]:
    """Teacher-forced mels of `teacher` for every utterance of `split`; returns the teacher.json data.

    A folder already written by another teacher (or for another corpus) is refused."""
    stats = read_stats(corpus)
    path = acoustic_file(teacher)
    loaded = load_acoustic(path)
    check_teacher(loaded.stats, loaded.symbols, stats, str(path))
    out = Path(out)
    info = {"teacher": str(path.resolve()), "step": loaded.extra.get("step"),
            "params": loaded.model.num_parameters(), "corpus": str(Path(corpus).resolve()), "split": split}
    manifest = out / INFO_NAME
    old = read_manifest(manifest)
    if old is not None and any(old.get(k) != info[k] for k in ("teacher", "step", "corpus", "split")):
        raise DataError(f"{out} holds mels of {old.get('teacher')} (step {old.get('step')}) for "
                        f"{old.get('corpus')}; write these to a new folder")
    data = AcousticDataset(corpus, split, stats, energy=loaded.model.config.energy)
    n_mels = int(stats["mel"]["n_mels"])
    todo = []
    for i, uid in enumerate(data.ids):
        if (out / f"{uid}.npy").is_file():
            try:
                read_teacher_mel(out, uid, int(data[i]["mel"].shape[0]), n_mels)
                continue
            except DataError:
                pass
        todo.append(i)
    info["utterances"] = len(data)
    write_manifest(manifest, info)
    for uid, mel in forced_mels(loaded.model, data, todo, batch_size, progress, "teacher mels"):
        save_npy(out / f"{uid}.npy", mel)
    return info


def forced_mels(model, data: AcousticDataset, todo: list[int], batch_size: int = 8, progress: bool = True,
                label: str = "mels"):
    """(id, (frames, n_mels) float32 mel) of the items `todo` of `data`, teacher-forced with their
    durations, pitch and energy, in batches; a durations/mel mismatch is a DataError."""
    batches = [todo[i: i + batch_size] for i in range(0, len(todo), batch_size)]
    if progress and batches:
        from ..console import progress as progress_bar

        batches = progress_bar(batches, f"{label} ({len(todo)} utterances)")
    model = model.eval()
    with torch.inference_mode():
        for chunk in batches:
            batch = collate([data[i] for i in chunk])
            mel = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                        energy=batch["energy"])["mel"]
            for j, uid in enumerate(batch["id"]):
                m = int(batch["mel_lens"][j])
                if int(batch["durations"][j].sum()) != m:
                    raise DataError(f"{uid}: durations sum to {int(batch['durations'][j].sum())} frames, the mel has {m}")
                yield uid, mel[j, :m].numpy()
