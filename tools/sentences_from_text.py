"""Extract speakable English sentences from plain-text or fortune-format files, one per line.

Used to build large text-to-speech training texts from public text packages, e.g. Debian's
`fortunes` (`apt-get download fortunes && dpkg-deb -x fortunes_*.deb pkg/`):

    python tools/sentences_from_text.py pkg/usr/share/games/fortunes/* \
        --exclude src/hifilite/assets/heldout_sentences.txt -o texts.txt

A fortune file separates entries with lines holding only `%`; attribution lines (`-- Name`) are
dropped. Entries are split into sentences, and a sentence is kept only if it is plain prose:
4 to 30 words, ASCII letters and ordinary punctuation, no all-caps shouting, no code or verse
layout. `--exclude` files (e.g. the held-out WER sentences) are never emitted, compared after
lower-casing and stripping punctuation. Output order is a seeded shuffle, so `head -n N` takes
an unbiased sample.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_ALLOWED = re.compile(r"^[A-Za-z0-9 ,.;:'\"!?()\-$%&]+$")
_ABBREV_END = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc|e\.g|i\.e|Prof|Gen|Rev)\.$")


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def entries(text: str) -> list[str]:
    """Fortune entries (or paragraphs of a plain text) as single-line strings."""
    blocks = re.split(r"^%\s*$", text, flags=re.M) if re.search(r"^%\s*$", text, re.M) else re.split(r"\n\s*\n", text)
    out = []
    for block in blocks:
        lines = [ln for ln in block.splitlines() if not re.match(r"^\s*(--|~~)", ln)]
        # Indented or very short lines suggest verse, code or ASCII art: skip the entry.
        body = [ln for ln in lines if ln.strip()]
        if not body or sum(ln.startswith(("  ", "\t")) for ln in body) > len(body) // 2:
            continue
        out.append(" ".join(" ".join(body).split()))
    return out


def sentences(entry: str) -> list[str]:
    parts, buf = [], ""
    for piece in _SENTENCE_END.split(entry):
        buf = f"{buf} {piece}".strip() if buf else piece
        if not _ABBREV_END.search(buf):
            parts.append(buf)
            buf = ""
    if buf:
        parts.append(buf)
    return parts


def speakable(s: str, min_words: int, max_words: int) -> bool:
    words = s.split()
    if not (min_words <= len(words) <= max_words):
        return False
    if not _ALLOWED.match(s) or s[-1] not in ".!?" or not s[0].isupper():
        return False
    if "|" in s or s.count('"') % 2 or s.count("(") != s.count(")"):
        return False
    letters = [c for c in s if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return upper <= max(3, len(letters) // 5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--exclude", type=Path, action="append", default=[],
                    help="Texts never to emit (one per line), e.g. held-out test sentences.")
    ap.add_argument("--min-words", type=int, default=4)
    ap.add_argument("--max-words", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    excluded = set()
    for path in args.exclude:
        excluded |= {_key(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()}
    seen, kept = set(), []
    for path in args.files:
        if path.suffix in (".dat", ".u8") or path.is_dir():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for entry in entries(text):
            for s in sentences(entry):
                k = _key(s)
                if k in seen or k in excluded or not speakable(s, args.min_words, args.max_words):
                    continue
                seen.add(k)
                kept.append(s)
    random.Random(args.seed).shuffle(kept)
    args.out.write_text("".join(f"{s}\n" for s in kept), encoding="utf-8")
    print(f"wrote {len(kept)} sentences to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
