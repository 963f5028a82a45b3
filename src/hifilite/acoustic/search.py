"""LightSpeech architecture search: sampled training, a boosted-tree predictor, latency budget.

The search follows LightSpeech (Luo et al., 2021), with a predictor instead of its weight-sharing:

1. **Sample** `samples` architectures (one operation per encoder and decoder layer, from
   `models.OPS`), train each for `steps` steps on the shared loop with the same seed and data, and
   record its validation mel L1 (teacher-forced, mean over utterances: the `val/mel/loss` training logs; `validation_mel_l1`).
2. **Predict**: fit a gradient-boosted regressor (scikit-learn) from the architecture encoding
   (`SearchSpace.encode`: per layer a one-hot of the operation plus its kernel size and number of
   heads) to that loss. Its accuracy is the Spearman rank correlation between measured losses and
   out-of-fold predictions (k-fold: every architecture is predicted by a model that did not see it),
   which is what matters for ranking.
3. **Rank** `candidates` random architectures by predicted loss and **measure** single-thread
   latency (`measure_latency_ms`: fixed phoneme ids and fixed durations, so every model regulates
   to the same number of frames; median of repeats) down the ranking until `top_k` fit the budget
   (`max_latency_ms`, or `min_speedup` over FastSpeech 2 measured the same way).
4. **Train the top k** for `final_steps` and choose the lowest validation mel L1 among them; it is
   copied to `OUT/acoustic.safetensors` (self-describing, with the search in its metadata).

Everything measured lives in an Optuna study database (`OUT/study.db`, SQLite): the sampled
architectures with their losses, latencies, and the finalists' losses. Each training is a normal
run folder (`OUT/trials/NNN`, `OUT/final/<hash of the architecture>`) resumed where it stopped,
and the sequence of sampled architectures is a pure function of the seed, so re-running the
command continues the search, and a larger `--samples` or `--final-steps` extends it.
`OUT/search.json` and `OUT/search.png` report it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import TrainConfig, to_dict
from ..errors import ConfigError, HifiliteError
from ..io import atomic_write
from .models import AcousticConfig, AcousticModel, parse_arch
from .search_space import Arch, SearchSpace, fit_predictor, heldout_spearman, measure_latency_ms, rank_candidates

SAMPLES_STUDY = "acoustic-samples"
LATENCY_STUDY = "acoustic-latency"
FINAL_STUDY = "acoustic-final"
REFERENCE = "fastspeech2"
# Settings that decide what a sampled trial measures: a study cannot continue with others.
FIXED_SETTINGS = ("space", "steps", "train", "warmup", "seed", "data")


class SearchInterrupted(HifiliteError):
    """Training of a trial was interrupted (Ctrl-C / SIGTERM); re-run the command to continue."""


# ----------------------------------------------------------------------------------- training


@torch.no_grad()
def validation_mel_l1(model: AcousticModel, data_root: str | Path, stats: dict[str, Any]) -> float:
    """The validation metric the acoustic task logs as `val/mel/loss` (`AcousticTask.validate`):
    teacher-forced mel L1 of each utterance of the validation split (test if empty), averaged over
    utterances, so a searched architecture's score and its training curve are the same number."""
    from ..data.acoustic_dataset import AcousticDataset, collate
    from .task import losses

    ids = stats["splits"]["val"] or stats["splits"]["test"]
    if not ids:
        raise ConfigError(f"{data_root}: the corpus has no validation or test utterances to score architectures")
    data = AcousticDataset(data_root, "val", stats, ids=ids, energy=model.config.energy)
    was_training = model.training
    model.eval()
    total = 0.0
    try:
        with torch.no_grad():
            for i in range(len(data)):
                batch = collate([data[i]])
                out = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                            energy=batch["energy"])
                total += float(losses(out, batch)["mel/loss"])
    finally:
        model.train(was_training)
    return total / max(1, len(data))


def train_trial(*, data_root: Path, run_dir: Path, spec: str, train_config: TrainConfig, warmup: int,
                stats: dict[str, Any], console=None) -> tuple[float, int]:
    """Train `spec` in `run_dir` up to `train_config.max_steps` (resuming what is there) and return
    (validation mel L1, parameters)."""
    from .checkpoint import load_acoustic
    from .task import train_acoustic

    command = (f"hifilite acoustic train --data {data_root} -o {run_dir} --arch '{spec}' --steps "
               f"{train_config.max_steps} --batch-size {train_config.batch_size} --lr {train_config.learning_rate} "
               f"--warmup {warmup} --seed {train_config.seed}")
    result = train_acoustic(data_root=data_root, run_dir=run_dir, arch=parse_arch(spec), train_config=train_config,
                            warmup_steps=warmup, resume=True, console=console, command=command)
    if result.interrupted:
        raise SearchInterrupted(f"training of {spec} stopped at step {result.state.step}; run the search "
                                "again to continue")
    loaded = load_acoustic(run_dir)
    return validation_mel_l1(loaded.model, data_root, stats), loaded.model.num_parameters()


# ------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchSettings:
    space: SearchSpace = SearchSpace()
    samples: int = 24
    steps: int = 100
    candidates: int = 2000
    top_k: int = 3
    final_steps: int = 400
    max_latency_ms: float | None = None
    min_speedup: float | None = None
    latency_phonemes: int = 64
    latency_frames: int = 5
    latency_repeats: int = 7
    warmup: int = 50
    seed: int = 0

    def check(self) -> "SearchSettings":
        for name in ("samples", "steps", "candidates", "top_k", "final_steps", "latency_phonemes",
                     "latency_frames", "latency_repeats"):
            if getattr(self, name) < 1:
                raise ConfigError(f"search setting {name} must be >= 1, got {getattr(self, name)}")
        if self.samples < 2:
            raise ConfigError("the search needs at least 2 sampled architectures to fit a predictor")
        for name in ("max_latency_ms", "min_speedup"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ConfigError(f"{name} must be > 0, got {v}")
        return self


def _open_study(name: str, storage: str, direction: str = "minimize"):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=storage, load_if_exists=True, direction=direction)


def _add(study, space: SearchSpace | None, arch: Arch | None, value: float, attrs: dict[str, Any]) -> None:
    import optuna

    params = space.params(arch) if space and arch else {}
    dists = space.distributions() if space and arch else {}
    study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value, user_attrs=attrs))


def _completed(study) -> list:
    import optuna

    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def _check_fixed(study, fixed: dict[str, Any]) -> None:
    stored = study.user_attrs.get("fixed")
    if stored is None:
        study.set_user_attr("fixed", fixed)
        return
    diffs = [k for k in FIXED_SETTINGS if stored.get(k) != fixed.get(k)]
    if diffs:
        raise ConfigError(f"this search folder was started with other {', '.join(diffs)} "
                          f"({'; '.join(f'{k}={stored.get(k)}' for k in diffs)}); "
                          "use the same settings or another --out")


def run_search(*, data_root: str | Path, out_dir: str | Path, settings: SearchSettings,
               train_config: TrainConfig, console=None, log=print, command: str | None = None) -> dict[str, Any]:
    """Run or continue the search in `out_dir`; returns the report written to `search.json`.

    `train_config` is used for every training (its `max_steps` is replaced by `steps` /
    `final_steps`); `log` receives one line per finished stage or trial.
    """
    from ..data.feature_cache import read_stats
    from .checkpoint import load_acoustic, save_acoustic
    from .task import config_for_corpus, model_stats

    settings = settings.check()
    space = settings.space
    data_root, out_dir = Path(data_root), Path(out_dir)
    stats = read_stats(data_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(out_dir / 'study.db').resolve()}"
    tc = dataclasses.replace(train_config, validation_interval=0, checkpoint_interval=0, keep_checkpoints=1)
    fixed = {"space": space.to_dict(), "steps": settings.steps, "warmup": settings.warmup, "seed": settings.seed,
             "train": {k: v for k, v in to_dict(tc).items() if k not in ("max_steps", "num_workers")},
             "data": str(data_root.resolve())}
    samples_study = _open_study(SAMPLES_STUDY, storage)
    _check_fixed(samples_study, fixed)

    # 1. sampled architectures, trained briefly
    done = {t.user_attrs["arch"]: t for t in _completed(samples_study)}
    sampled = space.sample_distinct(settings.samples, np.random.default_rng(settings.seed))
    rows = []
    for i, arch in enumerate(sampled):
        spec = space.spec(arch)
        if spec not in done:
            loss, params = train_trial(data_root=data_root, run_dir=out_dir / "trials" / f"{i:03d}", spec=spec,
                                       train_config=dataclasses.replace(tc, max_steps=settings.steps),
                                       warmup=settings.warmup, stats=stats, console=console)
            _add(samples_study, space, arch, loss, {"arch": spec, "index": i, "params": params,
                                                     "steps": settings.steps})
            log(f"sample {i + 1}/{len(sampled)}: {spec}  val mel L1 {loss:.4f}  ({params:,} params)")
            done = {t.user_attrs["arch"]: t for t in _completed(samples_study)}
        t = done[spec]
        rows.append({"index": i, "arch": spec, "val_mel_l1": t.value, "params": t.user_attrs["params"],
                     "run": str(out_dir / "trials" / f"{i:03d}")})

    # 2. predictor and its held-out rank correlation
    x = space.encode(sampled)
    y = np.array([r["val_mel_l1"] for r in rows])
    rho, oof = heldout_spearman(x, y, seed=settings.seed)
    for r, p in zip(rows, oof if oof is not None else [None] * len(rows)):
        r["predicted_out_of_fold"] = None if p is None else float(p)
    predictor = fit_predictor(x, y, settings.seed)
    log(f"predictor: Spearman {rho if rho is None else round(rho, 3)} on held-out architectures "
        f"({len(rows)} sampled, {min(5, len(rows))}-fold)")

    # 3. rank candidates, measure latency down the ranking until top_k fit the budget
    ranked = rank_candidates(predictor, space, settings.candidates, seed=settings.seed + 1)
    latency_study = _open_study(LATENCY_STUDY, storage)
    latencies = {t.user_attrs["arch"]: t for t in _completed(latency_study)}
    lat_key = (settings.latency_phonemes, settings.latency_frames, settings.latency_repeats)

    def latency(spec: str, cfg: AcousticConfig) -> tuple[float, int]:
        t = latencies.get(spec)
        if t is not None and tuple(t.user_attrs["input"]) == lat_key:
            return t.value, t.user_attrs["params"]
        model = AcousticModel.from_config(config_for_corpus(cfg, stats))
        ms = measure_latency_ms(model, settings.latency_phonemes, settings.latency_frames, settings.latency_repeats)
        arch = space.parse(spec) if spec != REFERENCE else None
        _add(latency_study, space if arch else None, arch, ms,
             {"arch": spec, "params": model.num_parameters(), "input": list(lat_key)})
        latencies[spec] = _completed(latency_study)[-1]
        return ms, model.num_parameters()

    ref_ms, ref_params = latency(REFERENCE, parse_arch(REFERENCE))
    budget = settings.max_latency_ms
    if settings.min_speedup is not None:
        budget = min(budget or math.inf, ref_ms / settings.min_speedup)
    measured, finalists = [], []
    max_measure = max(4 * settings.top_k, 10)
    for arch, pred in ranked[:max_measure]:
        spec = space.spec(arch)
        ms, params = latency(spec, space.config(arch))
        row = {"arch": spec, "predicted": pred, "latency_ms": ms, "params": params, "speedup": ref_ms / ms,
               "within_budget": budget is None or ms <= budget}
        measured.append(row)
        if row["within_budget"]:
            finalists.append(row)
            if len(finalists) == settings.top_k:
                break
    if not finalists:
        fastest = min(r["latency_ms"] for r in measured)
        raise ConfigError(f"none of the {len(measured)} best-predicted architectures meets the latency budget of "
                          f"{budget:.2f} ms (fastest measured {fastest:.2f} ms, FastSpeech 2 {ref_ms:.2f} ms); "
                          "allow more latency or narrow the search space (e.g. --ops without attention)")
    log(f"latency: FastSpeech 2 {ref_ms:.1f} ms; {len(finalists)} finalist(s) of {len(measured)} measured"
        + (f" under {budget:.2f} ms" if budget is not None else ""))

    # 4. finalists trained longer; choose the best
    final_study = _open_study(FINAL_STUDY, storage)
    _check_fixed(final_study, fixed)
    for k, row in enumerate(finalists):
        key = f"{row['arch']}@{settings.final_steps}"
        prior = [t for t in _completed(final_study) if t.user_attrs["key"] == key]
        run = out_dir / "final" / hashlib.sha1(row["arch"].encode()).hexdigest()[:10]
        if prior:
            loss = prior[-1].value
        else:
            loss, _ = train_trial(data_root=data_root, run_dir=run, spec=row["arch"],
                                  train_config=dataclasses.replace(tc, max_steps=settings.final_steps),
                                  warmup=settings.warmup, stats=stats, console=console)
            _add(final_study, space, space.parse(row["arch"]), loss,
                 {"arch": row["arch"], "key": key, "steps": settings.final_steps})
            log(f"finalist {k + 1}/{len(finalists)}: {row['arch']}  val mel L1 {loss:.4f} after "
                f"{settings.final_steps} steps  ({row['latency_ms']:.1f} ms)")
        row.update(val_mel_l1=loss, steps=settings.final_steps, run=str(run))
    chosen = min(finalists, key=lambda r: r["val_mel_l1"])

    report = {
        "data": str(data_root), "storage": storage, "settings": _settings_dict(settings), "command": command,
        "space_size": space.size, "sampled": rows,
        "predictor": {"kind": "sklearn GradientBoostingRegressor", "features": len(space.feature_names()),
                      "spearman_heldout": rho, "folds": min(5, len(rows)), "trained_on": len(rows)},
        "candidates": len(ranked), "reference": {"arch": REFERENCE, "latency_ms": ref_ms, "params": ref_params},
        "budget_ms": budget, "measured": measured, "finalists": finalists, "chosen": chosen,
        "latency_input": {"phonemes": settings.latency_phonemes, "frames_per_phoneme": settings.latency_frames,
                          "repeats": settings.latency_repeats, "threads": 1},
    }
    loaded = load_acoustic(chosen["run"])
    save_acoustic(out_dir / "acoustic.safetensors", loaded.model, symbols=loaded.symbols,
                  stats=model_stats(loaded.stats), mel=loaded.mel,
                  extra={**loaded.extra, "search": {"out": str(out_dir), "command": command,
                                                    "val_mel_l1": chosen["val_mel_l1"],
                                                    "latency_ms": chosen["latency_ms"],
                                                    "spearman_heldout": rho}})
    text = json.dumps(report, indent=2)
    atomic_write(out_dir / "search.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    plot_search(report, out_dir / "search.png")
    return report


def _settings_dict(s: SearchSettings) -> dict[str, Any]:
    d = dataclasses.asdict(s)
    d["space"] = s.space.to_dict()
    return d


def plot_search(report: dict[str, Any], path: str | Path) -> Path:
    """Two panels: out-of-fold predicted vs measured loss of the sampled architectures, and
    measured latency vs predicted loss of the ranked candidates, finalists annotated with their
    validation loss after the longer training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    pts = [(r["val_mel_l1"], r["predicted_out_of_fold"]) for r in report["sampled"]
           if r.get("predicted_out_of_fold") is not None]
    if pts:
        a.scatter(*zip(*pts), s=16)
        lo, hi = min(min(p) for p in pts), max(max(p) for p in pts)
        a.plot([lo, hi], [lo, hi], "--", c="#999", lw=1)
    rho = report["predictor"]["spearman_heldout"]
    a.set_title(f"predictor, held-out Spearman {'n/a' if rho is None else f'{rho:.2f}'}")
    a.set_xlabel("measured val mel L1")
    a.set_ylabel("predicted (out of fold)")
    m = report["measured"]
    b.scatter([r["latency_ms"] for r in m], [r["predicted"] for r in m], s=16, c="#999", label="measured candidates")
    f = report["finalists"]
    b.scatter([r["latency_ms"] for r in f], [r["predicted"] for r in f], s=30, c="C1", label="finalists")
    for r in f:
        b.annotate(f"{r['val_mel_l1']:.3f} @ {r['steps']}", (r["latency_ms"], r["predicted"]), fontsize=7,
                   xytext=(4, 4), textcoords="offset points")
    c = report["chosen"]
    b.scatter([c["latency_ms"]], [c["predicted"]], s=80, marker="*", c="C3", label="chosen (val L1 @ steps)")
    if report["budget_ms"] is not None:
        b.axvline(report["budget_ms"], ls="--", c="C3", lw=1, label="budget")
    b.set_xlabel(f"latency, 1 thread (ms); FastSpeech 2 {report['reference']['latency_ms']:.1f} ms")
    b.set_ylabel("predicted val mel L1 (short training)")
    b.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=90))
    plt.close(fig)
    return path
