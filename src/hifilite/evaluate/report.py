"""Report writing: tables (markdown and HTML), spectrogram comparison pictures, audio links.

Plain functions over plain data (lists of dicts), so every stage that produces numbers — the demo,
compression, acoustic-model search — writes its report the same way.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..io import atomic_write

Column = tuple[str, str, str]  # (key in the row, header, format spec such as ".3f")


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, float)) and spec:
        return format(value, spec)
    return str(value)


def render_markdown(head: Sequence[str], body: Sequence[Sequence[str]], right_align: bool = True) -> str:
    """The one markdown table writer: a header row and rows of already formatted cells (GitHub
    flavour; with `right_align`, every column but the first is right-aligned)."""
    sep = "|" + "|".join("---" if i == 0 or not right_align else "---:" for i in range(len(head))) + "|"
    lines = ["| " + " | ".join(head) + " |", sep, *("| " + " | ".join(cells) + " |" for cells in body)]
    return "\n".join(lines)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """Rows of values as a markdown table of `columns` (key, header, format spec)."""
    return render_markdown([h for _, h, _ in columns], [[_fmt(r.get(k), f) for k, _, f in columns] for r in rows])


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k), f))}</td>" for k, _, f in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def plot_spectrograms(wavs: dict[str, np.ndarray], sample_rate: int, path: str | os.PathLike, title: str = "") -> Path:
    """Stack log-mel spectrograms of several waveforms (same utterance) into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from ..audio import MelSpectrogram

    mel_fn = MelSpectrogram(sample_rate=sample_rate, fmax=sample_rate / 2 if sample_rate < 16000 else 8000.0)
    fig, axes = plt.subplots(len(wavs), 1, figsize=(10, 2.3 * len(wavs)), squeeze=False, sharex=True)
    for ax, (label, wav) in zip(axes[:, 0], wavs.items()):
        mel = mel_fn(torch.as_tensor(wav, dtype=torch.float32).reshape(1, -1))[0].numpy()
        ax.imshow(mel, origin="lower", aspect="auto", interpolation="none", vmin=-11.5, vmax=2.0, cmap="magma")
        ax.set_ylabel("mel bin")
        ax.set_title(label, fontsize=10, loc="left")
    axes[-1, 0].set_xlabel(f"frame (hop {mel_fn.hop_length} at {sample_rate} Hz)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=90))
    plt.close(fig)
    return path


@dataclass
class Report:
    """An ordered list of sections, rendered both as markdown and as a standalone HTML page."""

    title: str
    sections: list[tuple[str, Callable[[str], str]]] = field(default_factory=list)

    def text(self, heading: str, body: str) -> None:
        self.sections.append((heading, lambda fmt: body if fmt == "md" else "".join(
            f"<p>{html.escape(p)}</p>" for p in body.split("\n\n"))))

    def table(self, heading: str, rows: Sequence[dict[str, Any]], columns: Sequence[Column], note: str = "") -> None:
        rows = list(rows)

        def render(fmt: str) -> str:
            if fmt == "md":
                return markdown_table(rows, columns) + (f"\n\n{note}" if note else "")
            return html_table(rows, columns) + (f"<p>{html.escape(note)}</p>" if note else "")

        self.sections.append((heading, render))

    def image(self, heading: str, relpath: str, caption: str = "") -> None:
        self.sections.append((heading, lambda fmt: f"![{caption}]({relpath})" if fmt == "md" else
                              f'<figure><img src="{html.escape(relpath)}" style="max-width:100%">'
                              f"<figcaption>{html.escape(caption)}</figcaption></figure>"))

    def audio(self, heading: str, items: Sequence[tuple[str, str]]) -> None:
        """items: (label, relative path to a wav)."""
        items = list(items)

        def render(fmt: str) -> str:
            if fmt == "md":
                return "\n".join(f"- [{label}]({rel})" for label, rel in items)
            return "".join(f'<p>{html.escape(label)}<br><audio controls src="{html.escape(rel)}"></audio></p>'
                           for label, rel in items)

        self.sections.append((heading, render))

    def write(self, out_dir: str | os.PathLike) -> tuple[Path, Path]:
        out_dir = Path(out_dir)
        md = [f"# {self.title}", ""]
        body = []
        for heading, render in self.sections:
            md += [f"## {heading}", "", render("md"), ""]
            body.append(f"<h2>{html.escape(heading)}</h2>{render('html')}")
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{''.join(body)}</body></html>"
        )
        md_path = atomic_write(out_dir / "report.md", lambda tmp: Path(tmp).write_text("\n".join(md)))
        html_path = atomic_write(out_dir / "report.html", lambda tmp: Path(tmp).write_text(page))
        return md_path, html_path
