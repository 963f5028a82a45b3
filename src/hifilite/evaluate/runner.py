"""Copy-synthesis evaluation of vocoders on a corpus split.

For every model and every utterance: load the reference at the model's sample rate, analyse it
with the model's own front-end, vocode, and score the output against the reference trimmed to the
output's length (HiFi-GAN returns frames * hop samples). A `reference` row holds the DNSMOS of the
recordings themselves, the ceiling that readers compare the models' DNSMOS with.

Models run one after another (each loaded once, then released), so memory holds one model.
Outputs in `out_dir`: `results.json` (info + summary + per-utterance rows), `results.csv`
(per-utterance rows) and, with `save_audio`, `audio/<model-slug>/<utterance-id>.wav`.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError, HifiliteError
from .metrics import EXPANDED, HIGHER_IS_BETTER, MetricWarning, check_metrics, compute_all, dnsmos

REFERENCE = "reference"
SHORT_NAMES = {"pesq": "PESQ", "stoi": "STOI", "mcd": "MCD dB", "logmel_l1": "mel L1",
               "mrstft": "MR-STFT", "dnsmos_ovrl": "OVRL", "dnsmos_sig": "SIG", "dnsmos_bak": "BAK",
               "dnsmos_p808": "P808", "f0_cents": "F0 cents", "gpe": "GPE", "fpe_cents": "FPE cents", "vuv_f1": "V/UV F1",
               "periodicity": "period. RMSE", "crepe_vuv_f1": "crepe V/UV F1", "crepe_cents": "crepe cents",
               "crepe_rms_cents": "crepe RMS cents", "crepe_gpe": "crepe GPE"}


@dataclass
class EvalResult:
    """rows: one dict per (model, utterance) — keys model, id, speaker, duration_s, metric
    values (NaN where a metric failed), notes (why), audio (saved file, relative to out_dir).
    summary: {model: {"n": rows, metric: {"mean", "std", "n_nan"}}} with NaN-ignoring statistics.
    info: machine, threads, data and model descriptions, timings."""

    rows: list[dict[str, Any]]
    summary: dict[str, dict[str, Any]]
    info: dict[str, Any]
    out_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def metric_names(self) -> list[str]:
        return [k for k in HIGHER_IS_BETTER if any(k in r for r in self.rows)]


def slugify(label: str, taken: set[str]) -> str:
    """A file-system-safe folder name for a model label, unique within `taken` (which it joins)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "model"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _scored(fn, *args) -> tuple[Any, list[str]]:
    """Call a metric function, returning its value and the reasons of any MetricWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MetricWarning)
        value = fn(*args)
    return value, [str(w.message) for w in caught if issubclass(w.category, MetricWarning)]


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-model NaN-ignoring mean, median and std of every metric, with the count of NaNs."""
    out: dict[str, dict[str, Any]] = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        entry: dict[str, Any] = {"n": len(mine)}
        for key in HIGHER_IS_BETTER:
            if not any(key in r for r in mine):
                continue
            vals = np.array([r.get(key, math.nan) for r in mine], dtype=np.float64)
            ok = vals[np.isfinite(vals)]
            entry[key] = {
                "mean": float(ok.mean()) if ok.size else math.nan,
                "median": float(np.median(ok)) if ok.size else math.nan,  # robust to a few octave-error clips
                "std": float(ok.std()) if ok.size else math.nan,
                "n_nan": int(vals.size - ok.size),
            }
        out[model] = entry
    return out


def _json_safe(obj):
    """NaN/inf become null (strict JSON), numpy scalars become Python numbers, paths strings."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_results(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    """Write `results.json` and `results.csv` into `out_dir`; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "results.json"
    doc = {"info": result.info, "summary": result.summary, "utterances": result.rows}
    js.write_text(json.dumps(_json_safe(doc), indent=2) + "\n")
    cols = ["model", "id", "speaker", "duration_s", *result.metric_names, "notes", "audio"]
    cs = out_dir / "results.csv"
    with cs.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        for r in result.rows:
            row = {k: r.get(k, "") for k in cols}
            row["notes"] = "; ".join(r.get("notes", []))
            for k in result.metric_names:
                v = r.get(k)
                row[k] = "" if v is None or not math.isfinite(v) else f"{v:.6g}"
            writer.writerow(row)
    return {"json": js, "csv": cs}


def summary_table(result: EvalResult, title: str | None = None):
    """A rich Table: one row per model (reference first), NaN-ignoring means, NaN counts noted."""
    from rich.table import Table

    names = result.metric_names
    table = Table(title=title)
    table.add_column("model")
    table.add_column("n", justify="right")
    for k in names:
        table.add_column(f"{SHORT_NAMES[k]} {'↑' if HIGHER_IS_BETTER[k] else '↓'}", justify="right")
    for model, entry in result.summary.items():
        cells = []
        for k in names:
            s = entry.get(k)
            if s is None:
                cells.append("")
                continue
            text = "nan" if not math.isfinite(s["mean"]) else f"{s['mean']:.3f}"
            cells.append(text + (f" ({s['n_nan']} NaN)" if s["n_nan"] else ""))
        table.add_row(model, str(entry["n"]), *cells)
    return table


def unique_label(name: str, spec: str, taken: Sequence[str]) -> str:
    """The model's own name as its display label, unless another model (or `reference`) has it:
    then the spec it was loaded from, with `#2`, `#3`, … if even that repeats."""
    label = name or spec
    if label in taken or label == REFERENCE:
        label = spec
    base, i = label, 2
    while label in taken or label == REFERENCE:
        label, i = f"{base}#{i}", i + 1
    return label


def evaluate_models(
    models: Sequence[str],
    data_dir: str | Path,
    split: str = "test",
    limit: int | None = None,
    out_dir: str | Path | None = None,
    save_audio: bool = False,
    *,
    metrics: Sequence[str] | None = None,
    device: str = "cpu",
    console=None,
    utterances: Sequence[Any] | None = None,
) -> EvalResult:
    """Copy-synthesis evaluation of `models` (names or paths for `load_vocoder`) on one split.

    `limit` keeps the first N utterances of the split (sorted by id, so the same N every run).
    `metrics` restricts the metrics (see `hifilite.evaluate.metrics.METRICS`). An utterance whose
    audio cannot be read gets NaNs and a note, not an abort. `utterances` (records with id,
    wav_path and speaker, e.g. a chosen subset of the split) replaces the split's list before
    `limit` applies. Writes the result files when
    `out_dir` is given; `save_audio` needs `out_dir`. Progress and the table go to `console`.
    """
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..audio import load_audio, save_audio as write_wav
    from ..console import console as stderr_console
    from ..data.corpora import load_split
    from ..vocoder.api import load_vocoder
    from ..measure import Stopwatch, machine_info

    if not models:
        raise ConfigError("no models to evaluate")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be >= 1, got {limit}")
    if save_audio and out_dir is None:
        raise ConfigError("saving audio needs an output folder (--out)")
    names = check_metrics(metrics)
    console = console or stderr_console
    out = Path(out_dir) if out_dir is not None else None

    utts = list(utterances if utterances is not None else load_split(data_dir, split))[:limit]
    if not utts:
        raise DataError(f"{data_dir}: the {split!r} split is empty")

    rows: list[dict[str, Any]] = []
    slugs: set[str] = {REFERENCE}
    model_info: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Stopwatch() as wall, Progress(*columns, console=console, transient=True) as progress:
        if "dnsmos" in names:
            task = progress.add_task(REFERENCE, total=len(utts))
            for u in utts:
                row: dict[str, Any] = {"model": REFERENCE, "id": u.id, "speaker": u.speaker, "notes": []}
                try:
                    wav, sr = load_audio(u.wav_path)
                except HifiliteError as exc:
                    wav, sr = None, None
                    row["notes"].append(str(exc))
                if wav is not None:
                    row["duration_s"] = len(wav) / sr
                    scores, notes = _scored(dnsmos, wav, sr)
                    row.update({f"dnsmos_{k}": v for k, v in scores.items()})
                    row["notes"] += notes
                    if save_audio:
                        rel = Path("audio", REFERENCE, f"{u.id}.wav")
                        write_wav(out / rel, wav, sr)
                        row["audio"] = rel.as_posix()
                else:
                    row.update({f"dnsmos_{k}": math.nan for k in ("ovrl", "sig", "bak", "p808")})
                rows.append(row)
                progress.advance(task)

        for spec in models:
            voc = load_vocoder(spec, device=device)
            label = unique_label(str(getattr(voc, "name", "") or ""), str(spec),
                                 [m["label"] for m in model_info])
            slug = slugify(label, slugs)
            model_info.append({"label": label, "spec": str(spec), "slug": slug,
                               "sample_rate": voc.sample_rate, "hop_length": voc.hop_length,
                               "params": sum(p.numel() for p in voc.generator.parameters())})
            task = progress.add_task(label, total=len(utts))
            with Stopwatch() as model_time:
                for u in utts:
                    row = {"model": label, "id": u.id, "speaker": u.speaker, "notes": []}
                    try:
                        wav, sr = load_audio(u.wav_path, voc.sample_rate)
                        est = voc(voc.mel(whole_frames(wav, voc.hop_length)))[0].detach().cpu().numpy()[: len(wav)]
                    except HifiliteError as exc:
                        row["notes"].append(str(exc))
                        row.update({k: math.nan for k in _metric_keys(names)})
                        rows.append(row)
                        progress.advance(task)
                        continue
                    row["duration_s"] = len(wav) / sr
                    scores, notes = _scored(compute_all, wav, est, sr, names)
                    row.update(scores)
                    row["notes"] += notes
                    if save_audio:
                        rel = Path("audio", slug, f"{u.id}.wav")
                        write_wav(out / rel, est, sr)
                        row["audio"] = rel.as_posix()
                    rows.append(row)
                    progress.advance(task)
            model_info[-1]["seconds"] = model_time.seconds
            del voc

    info = {
        "machine": machine_info(),
        "torch_threads": torch.get_num_threads(),
        "data": {"dir": str(data_dir), "split": split, "limit": limit, "utterances": len(utts),
                 "audio_seconds": float(sum(r.get("duration_s", 0.0) for r in rows
                                            if r["model"] == model_info[0]["label"]))},
        "metrics": list(names),
        "models": model_info,
        "wall_seconds": wall.seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    result = EvalResult(rows=rows, summary=summarise(rows), info=info, out_dir=out)
    if out is not None:
        result.files = write_results(result, out)
    return result


def whole_frames(wav, hop: int):
    """`wav` zero-padded to a whole number of mel frames (at least one more sample than it had), so a
    vocoder's `frames * hop` samples cover the whole recording: every system is scored on all of it."""
    import numpy as np

    frames = len(wav) // hop + 1
    return np.pad(wav, (0, frames * hop - len(wav)))


def _metric_keys(names: Sequence[str]) -> list[str]:
    keys = []
    for n in names:
        keys += list(EXPANDED.get(n, (n,)))
    return keys
