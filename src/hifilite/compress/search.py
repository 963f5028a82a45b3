"""Latency-aware multi-objective search over supernet paths (Optuna NSGA-II).

Each trial picks a rank per stage (for the Fourier family: a width and a depth), extracts that
sub-student, and measures
  - quality: mean log-mel L1 between the path's output and the teacher's on validation mels
    (lower is better; a cheap proxy that tracks PESQ for copy-synthesis), and
  - cost: single-thread median latency of the extracted sub-student on a fixed input, expressed as
    x-real-time (higher is better), with MACs per second of audio and parameters beside it.
Constraints (`max_macs`, `max_params`, `min_x_real_time`) prune a trial before or after measuring. The study
lives in Optuna storage (SQLite by default), so a search resumes and several workers can share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from ..io import atomic_write
from ..measure import probe_mel, time_call, times_real_time
from ..vocoder.fourier import FourierGenerator
from ..vocoder.generator import Generator
from .supernet import extract, fourier_choices, set_active_ranks, stage_max_ranks


@dataclass(frozen=True)
class SearchLimits:
    min_x_real_time: float | None = None  # x-real-time on one thread, at least
    max_macs: float | None = None  # MACs per second of audio, at most
    max_params: int | None = None


def rank_choices(maxima: Sequence[int]) -> list[list[int]]:
    """Powers of two up to each stage's maximum, plus the maximum itself."""
    out = []
    for m in maxima:
        c = {m}
        r = 1
        while r < m:
            c.add(r)
            r *= 2
        out.append(sorted(c))
    return out


def path_choices(supernet: torch.nn.Module) -> list[list[int]]:
    """The values each path dimension may take: per-stage ranks (`rank_choices`) for the HiFi-GAN
    families, (width, depth) choices for the Fourier family (`fourier_choices`)."""
    if isinstance(supernet, FourierGenerator):
        return fourier_choices(supernet)
    return rank_choices(stage_max_ranks(supernet))


def measure_x_real_time(gen: Generator, n_mels: int, hop: int, sample_rate: int, frames: int = 86, repeats: int = 3) -> float:
    """x-real-time of `gen` on one thread (median of `repeats` after one warm-up)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mel = torch.from_numpy(probe_mel(n_mels, frames))
        with torch.inference_mode():
            timing = time_call(lambda: gen(mel), repeats=repeats, warmup=1)
    finally:
        torch.set_num_threads(threads)
    return times_real_time(frames * hop / sample_rate, timing.median)


def path_distance(gen: Generator, teacher: Generator | Sequence[torch.Tensor], mels: Sequence[torch.Tensor],
                  mel_fn) -> float:
    """Mean log-mel L1 between `gen` (current path) and the teacher over validation mels.

    `teacher` is the teacher generator, or its log-mels of `mels` computed once (`teacher_mels`).
    """
    targets = teacher_mels(teacher, mels, mel_fn) if isinstance(teacher, torch.nn.Module) else teacher
    total = 0.0
    with torch.inference_mode():
        for mel, target in zip(mels, targets):
            total += float(F.l1_loss(mel_fn(gen(mel).squeeze(1)), target))
    return total / max(1, len(mels))


def teacher_mels(teacher: Generator, mels: Sequence[torch.Tensor], mel_fn) -> list[torch.Tensor]:
    """The teacher's output log-mels for `mels`: computed once per search, not per trial."""
    with torch.inference_mode():
        return [mel_fn(teacher(mel).squeeze(1)) for mel in mels]


def run_search(
    *, supernet: Generator, config, teacher: Generator, mels: Sequence[torch.Tensor], mel_config,
    out_dir: str | Path, trials: int = 30, storage: str | None = None, study_name: str = "hifilite-search",
    limits: SearchLimits = SearchLimits(), seed: int = 0, progress: bool = True,
):
    """Run (or continue) the study; write `pareto.json` and `pareto.png` into `out_dir`."""
    import optuna

    from ..audio import MelSpectrogram
    from ..evaluate.macs import macs_per_second

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out_dir / 'study.db').resolve()}"
    choices = path_choices(supernet)
    mel_fn = MelSpectrogram.from_config(mel_config.loss_variant())
    supernet.eval()
    teacher.eval()
    targets = teacher_mels(teacher, mels, mel_fn)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name, storage=storage, load_if_exists=True, directions=["minimize", "maximize"],
        sampler=optuna.samplers.NSGAIISampler(seed=seed),
    )

    def objective(trial: "optuna.Trial") -> tuple[float, float]:
        ranks = tuple(trial.suggest_categorical(f"rank{i}", c) for i, c in enumerate(choices))
        sub, sub_cfg = extract(supernet, config, ranks)
        params = sum(p.numel() for p in sub.parameters())
        macs = macs_per_second(sub, sample_rate=mel_config.sample_rate, hop_length=mel_config.hop_length,
                               n_mels=mel_config.n_mels)
        trial.set_user_attr("params", params)
        trial.set_user_attr("macs_per_second", macs)
        trial.set_user_attr("ranks", list(ranks))
        if (limits.max_params and params > limits.max_params) or (limits.max_macs and macs > limits.max_macs):
            raise optuna.TrialPruned(f"over the size limit: {params} params, {macs:.3g} MAC/s")
        x_rt = measure_x_real_time(sub, mel_config.n_mels, mel_config.hop_length, mel_config.sample_rate)
        trial.set_user_attr("x_real_time", x_rt)
        if limits.min_x_real_time and x_rt < limits.min_x_real_time:
            raise optuna.TrialPruned(f"too slow: {x_rt:.1f}x real-time")
        set_active_ranks(supernet, ranks)
        try:
            dist = path_distance(supernet, targets, mels, mel_fn)
        finally:
            set_active_ranks(supernet, None)
        return dist, x_rt

    done = len([t for t in study.trials if t.state.is_finished()])
    remaining = max(0, trials - done)
    if remaining:
        study.optimize(objective, n_trials=remaining, show_progress_bar=progress)
    front = [
        {"number": t.number, "mel_l1": t.values[0], "x_real_time": t.values[1], **t.user_attrs}
        for t in study.best_trials
    ]
    front.sort(key=lambda r: r["x_real_time"])
    atomic_write(out_dir / "pareto.json", lambda tmp: Path(tmp).write_text(json.dumps(
        {"storage": storage, "study": study_name, "trials": len(study.trials), "limits": limits.__dict__,
         "choices": choices, "front": front}, indent=2)))
    _plot(study, front, out_dir / "pareto.png")
    return study, front


def _plot(study, front, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [t for t in study.trials if t.values is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([t.values[1] for t in done], [t.values[0] for t in done], s=12, c="#999", label="trials")
    ax.plot([r["x_real_time"] for r in front], [r["mel_l1"] for r in front], "o-", c="C3", label="Pareto front")
    ax.set_xlabel("x real-time (1 thread)")
    ax.set_ylabel("log-mel L1 to teacher")
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=90))
    plt.close(fig)

