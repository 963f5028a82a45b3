"""Training on several corpora at once, in chosen proportions (e.g. real speech + a Piper voice).

`mixed_splits([A, B], weights=[3, 1])` reads each corpus's own train/val split and returns one
training list in which corpus i makes up weights[i] / sum(weights) of the items: an epoch holds as
many items as the corpora together, and a corpus with fewer utterances than its share repeats
them (whole passes, then a seeded sample of the rest), one with more contributes a seeded sample.
Without weights the lists are simply joined. Validation is the union of the corpora's val splits.

With more than one corpus every id gets its corpus's folder name as prefix (`fillets/city-cs/x`),
so ids stay unique across corpora (the teacher cache names files by id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .corpora import Utterance, load_split

Roots = str | Path | Sequence[str | Path]


def as_roots(data: Roots) -> list[Path]:
    """One corpus folder or several, as a list of paths."""
    if isinstance(data, (str, Path)):
        return [Path(data)]
    roots = [Path(r) for r in data]
    if not roots:
        raise ConfigError("give at least one corpus folder")
    return roots


def corpus_labels(roots: Sequence[Path]) -> list[str]:
    """Folder names, made unique with a numeric suffix where two corpora share one."""
    labels: list[str] = []
    for root in roots:
        name = root.resolve().name or "corpus"
        label, n = name, 2
        while label in labels:
            label, n = f"{name}{n}", n + 1
        labels.append(label)
    return labels


def weighted_items(utts: Sequence[Utterance], count: int, seed: int) -> list[Utterance]:
    """`count` items from `utts`: whole passes, then a seeded sample without repeats for the rest."""
    if count <= 0 or not utts:
        return []
    passes, rest = divmod(count, len(utts))
    order = np.random.default_rng(seed).permutation(len(utts))[:rest]
    return list(utts) * passes + [utts[i] for i in sorted(order)]


def mixed_splits(
    data: Roots, weights: Sequence[float] | None = None, *, seed: int = 0
) -> tuple[list[Utterance], list[Utterance]]:
    """(train, val) utterances of one corpus or a weighted mixture of several (see module doc)."""
    roots = as_roots(data)
    if weights is not None:
        weights = [float(w) for w in weights]
        if len(weights) != len(roots):
            raise ConfigError(f"{len(weights)} data weight(s) for {len(roots)} corpus folder(s)")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError("data weights must be >= 0 with a positive sum")
    if len(roots) == 1:
        return load_split(roots[0], "train"), load_split(roots[0], "val")
    labels = corpus_labels(roots)

    def prefixed(utts: list[Utterance], label: str) -> list[Utterance]:
        return [dataclasses.replace(u, id=f"{label}/{u.id}") for u in utts]

    trains = [prefixed(load_split(r, "train"), lab) for r, lab in zip(roots, labels)]
    vals = [prefixed(load_split(r, "val"), lab) for r, lab in zip(roots, labels)]
    if weights is None:
        train = [u for part in trains for u in part]
    else:
        total = sum(len(t) for t in trains)
        counts = [round(total * w / sum(weights)) for w in weights]
        for t, c, r in zip(trains, counts, roots):
            if c and not t:
                raise ConfigError(f"{r}: no training utterances for its data weight")
        train = [u for i, (t, c) in enumerate(zip(trains, counts)) for u in weighted_items(t, c, seed + i)]
    return train, [u for part in vals for u in part]
