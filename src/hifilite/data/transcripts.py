"""Transcripts for imported clips: where a recording's words come from.

A text source is a function `audio path -> words or None`: a `<stem>.txt` / `<stem>.lab` beside the
file ("sidecar"), the words KDE `*.soundtheme` XML files give their sounds ("soundtheme", as in
ktuberling's data), sound themes then sidecars ("auto"), or nothing ("none").
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.etree import ElementTree

from ..errors import ConfigError

TEXT_SOURCES = ("auto", "sidecar", "soundtheme", "none")
TextSource = Callable[[Path], str | None]


def sidecar_text(path: Path) -> str | None:
    """A `<stem>.txt` or `<stem>.lab` beside the audio file."""
    for ext in (".txt", ".lab"):
        side = path.with_suffix(ext)
        if side.is_file():
            return " ".join(side.read_text(encoding="utf-8", errors="replace").split())
    return None


def soundtheme_texts(root: Path) -> dict[Path, str]:
    """Words named by KDE `*.soundtheme` files under `root`: `<sound name="ball" file="en/ball.ogg"/>`
    gives the clip `en/ball.*` the text "ball". Keys are resolved paths without extension (the
    themes name `.wav` files that packages ship as `.ogg`)."""
    texts: dict[Path, str] = {}
    for theme in sorted(Path(root).rglob("*.soundtheme")):
        try:
            tree = ElementTree.parse(theme)
        except ElementTree.ParseError as exc:
            warnings.warn(f"{theme}: not a readable sound theme ({exc}); its words are not used", stacklevel=2)
            continue
        for sound in tree.getroot().iter("sound"):
            name, file = sound.get("name"), sound.get("file")
            if name and file:
                texts[(theme.parent / file).resolve().with_suffix("")] = name.replace("_", " ")
    return texts


def make_text_source(kind: str, roots: Sequence[Path]) -> TextSource:
    """The transcript lookup for `kind`: "sidecar" (.txt/.lab beside the clip), "soundtheme"
    (KDE sound-theme XML under the source roots), "auto" (sound themes, then sidecars), "none"."""
    if kind not in TEXT_SOURCES:
        raise ConfigError(f"text source must be one of {', '.join(TEXT_SOURCES)}, not {kind!r}")
    if kind == "none":
        return lambda path: None
    themes: dict[Path, str] = {}
    if kind in ("auto", "soundtheme"):
        for root in roots:
            themes.update(soundtheme_texts(root))

    def lookup(path: Path) -> str | None:
        text = themes.get(path.resolve().with_suffix(""))
        if text is None and kind in ("auto", "sidecar"):
            text = sidecar_text(path)
        return text

    return lookup


__all__ = ["TEXT_SOURCES", "TextSource", "make_text_source", "sidecar_text", "soundtheme_texts"]
