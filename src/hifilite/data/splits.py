"""Deterministic train/val/test splits of a corpus's utterances, and `splits.json` files.

Splits are a pure function of (seed, utterance id), so they do not depend on the order files were
listed in, on the machine, or on Python's randomised `hash`; a `splits.json` next to the corpus
(written by `synthesize_corpus`) overrides them. `hifilite.data.corpora` reads corpora and applies
these (`corpus_splits`, `load_split`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError, DataError
from .readers import Utterance

SPLITS = ("train", "val", "test")
SPLIT_FILE = "splits.json"

# Held out for unseen-speaker evaluation: 4 female, 4 male; English, Scottish, Northern Irish,
# Welsh and Indian accents (VCTK speaker-info.txt). A default, not a rule: every function that
# uses it takes the list as an argument.
VCTK_UNSEEN_SPEAKERS: tuple[str, ...] = (
    "p226",  # M, English
    "p228",  # F, English
    "p232",  # M, English
    "p237",  # M, Scottish
    "p238",  # F, Northern Irish
    "p248",  # F, Indian
    "p251",  # M, Indian
    "p253",  # F, Welsh
)


def _stable_key(seed: int, uid: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{uid}".encode(), digest_size=16).digest()


def _split_size(amount: int | float, total: int, name: str) -> int:
    """`amount` as a count: an int is a count, a float in [0, 1) a fraction of `total` (rounded).
    A non-zero fraction never rounds down to zero once there are 3 utterances (one per split);
    below that, fractions round normally so that a 1- or 2-utterance corpus is all train."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        raise ConfigError(f"{name} must be a count (int) or a fraction in [0, 1), not {amount!r}")
    if isinstance(amount, float):
        if amount >= 1:
            raise ConfigError(f"{name}={amount}: a fraction must be < 1 (use an int for a count)")
        n = round(amount * total)
        return max(n, 1) if amount > 0 and total >= 3 else n
    return amount


def split_utterances(
    utts: Iterable[Utterance],
    *,
    val: int | float = 0.05,
    test: int | float = 0.05,
    seed: int = 0,
) -> dict[str, list[Utterance]]:
    """Deterministic train/val/test split.

    Utterances are ranked by a BLAKE2 hash of (seed, id), test takes the first ranks, val the next,
    train the rest, so the result is independent of input order and sizes are exact. `val`/`test`
    are counts (int) or fractions (float); with >= 3 utterances a non-zero fraction gets at least
    one, so every split is non-empty with the defaults; 1 or 2 utterances all go to train. Each split is returned sorted by id.

    Raises:
        DataError: duplicate ids, or val + test leaving no training utterances.
    """
    utts = list(utts)
    ids = [u.id for u in utts]
    if len(set(ids)) != len(ids):
        raise DataError("cannot split: utterance ids are not unique")
    n = len(utts)
    n_test = _split_size(test, n, "test")
    n_val = _split_size(val, n, "val")
    if n and n_test + n_val >= n:
        raise DataError(f"val ({n_val}) + test ({n_test}) leave no training data out of {n}")
    ranked = sorted(utts, key=lambda u: _stable_key(seed, u.id))
    parts = {
        "test": ranked[:n_test],
        "val": ranked[n_test : n_test + n_val],
        "train": ranked[n_test + n_val :],
    }
    return {name: sorted(parts[name], key=lambda u: u.id) for name in SPLITS}


def speaker_split(
    utts: Iterable[Utterance],
    held_out_speakers: Iterable[str] = VCTK_UNSEEN_SPEAKERS,
    *,
    val: int | float = 0.02,
    seed: int = 0,
) -> dict[str, list[Utterance]]:
    """Split for unseen-speaker evaluation: every utterance of `held_out_speakers` goes to "test";
    the other speakers' utterances are split into train/val by `split_utterances`.

    Raises:
        DataError: a held-out speaker does not occur in the corpus (a typo would otherwise
            silently evaluate on seen speakers), or no seen speakers remain.
    """
    utts = list(utts)
    held = set(held_out_speakers)
    unknown = sorted(held - {u.speaker for u in utts})
    if unknown:
        raise DataError(f"held-out speaker(s) not in the corpus: {', '.join(unknown)}")
    seen = [u for u in utts if u.speaker not in held]
    if not seen:
        raise DataError("every speaker is held out: nothing left to train on")
    parts = split_utterances(seen, val=val, test=0, seed=seed)
    parts["test"] = sorted((u for u in utts if u.speaker in held), key=lambda u: u.id)
    return parts


def read_split_file(path: str | Path, utts: Iterable[Utterance]) -> dict[str, list[Utterance]]:
    """Apply a `splits.json` ({"train": [ids], "val": [...], "test": [...]}) to `utts`.

    The file must match the corpus exactly: an id in no split, in two splits, or not in the corpus
    is an error rather than an utterance silently lost or duplicated.
    """
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read split file ({exc})") from None
    if not isinstance(spec, dict) or set(spec) - set(SPLITS):
        raise DataError(f"{path}: expected an object with keys {', '.join(SPLITS)}")
    by_id = {u.id: u for u in utts}
    assigned: dict[str, str] = {}
    parts: dict[str, list[Utterance]] = {}
    for name in SPLITS:
        ids = spec.get(name, [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise DataError(f"{path}: '{name}' must be a list of utterance ids")
        for uid in ids:
            if uid not in by_id:
                raise DataError(f"{path}: id {uid!r} ({name}) is not in the corpus")
            if uid in assigned:
                raise DataError(f"{path}: id {uid!r} is in both {assigned[uid]} and {name}")
            assigned[uid] = name
        parts[name] = sorted((by_id[i] for i in ids), key=lambda u: u.id)
    unassigned = sorted(set(by_id) - set(assigned))
    if unassigned:
        raise DataError(f"{path}: {len(unassigned)} utterance(s) in no split, e.g. {unassigned[0]}")
    return parts
