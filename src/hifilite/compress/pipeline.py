"""`hifilite compress run`: every compression stage in one resumable command, with a report.

Stages (each writes under OUT and is skipped or resumed when run again):

  1. teacher cache   teacher outputs for the training split (`vocoder.teacher_cache`), shared by all runs
  2. supernet        the student family as a weight-sharing supernet over per-stage ranks:
                     `decomposed` = the teacher's resblock convs by channel SVD (teacher-initialised),
                     `lite` = the iSTFT-head `lite` preset with low-rank convs (fresh),
                     `fourier` = the frame-rate `fourier` preset over (width, depth) (fresh);
                     trained by sandwich-rule in-place distillation (`SupernetDistilTask`)
  3. search          Optuna NSGA-II over paths: mel distance to the teacher vs measured 1-thread speed
  4. fine-tune       the chosen path, extracted, distilled further (+ MPD/MSD with `adversarial`)
  5. baselines       v2 and v3 trained from scratch, same steps, no teacher; by default narrowed to the
                     searched student's parameter count (`size_matched`), or at their preset size
  6. ablation        the fine-tune repeated with each distillation term switched off
  7. evaluation      copy-synthesis quality on the test split, size, MACs and 1-thread speed
  8. report          OUT/report.md + report.html: tables, Pareto plot, spectrograms, audio

Finished models are copied to OUT/models/<label>.safetensors (self-describing, `load_vocoder`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Sequence

from ..config import (DISTIL_WEIGHTS, GENERATOR_PRESETS, PHASE_WEIGHTS, SCRATCH_WEIGHTS, GeneratorConfig,
                      TrainConfig, to_dict)
from ..errors import ConfigError

FAMILIES = ("decomposed", "lite", "fourier")
# Feature distillation needs the teacher's stage count, which searched students of other families
# do not have: the pipeline distils on the output alone.
DISTIL = {**DISTIL_WEIGHTS, "distil/feat": 0.0, "stft/loss": 0.0}
ABLATE = ("distil/mel", "distil/stft", "mel/loss")
PHASE = PHASE_WEIGHTS
SCRATCH = SCRATCH_WEIGHTS

@dataclass
class RunSettings:
    teacher: str = "lj-v1"
    family: str = "lite"
    steps: int = 2000  # per training stage
    trials: int = 24
    train: TrainConfig = field(default_factory=lambda: TrainConfig(batch_size=8, checkpoint_interval=250,
                                                                  validation_items=4, num_workers=1))
    adversarial: bool = False
    baselines: Sequence[str] = ("v2", "v3")
    baseline_size: str = "matched"  # "matched": as many parameters as the searched student; "preset"
    ablation: bool = True
    max_rtf: float | None = None
    max_params: int | None = None
    max_macs: float | None = None
    eval_limit: int | None = 16
    metrics: Sequence[str] | None = None
    bench_seconds: float = 4.0
    device: str = "cpu"
    seed: int = 0

    def check(self) -> "RunSettings":
        if self.family not in FAMILIES:
            raise ConfigError(f"family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.steps < 1 or self.trials < 1:
            raise ConfigError("steps and trials must be >= 1")
        unknown = sorted(set(self.baselines) - {"v1", "v2", "v3", "lite"})
        if unknown:
            raise ConfigError(f"unknown baseline preset(s) {', '.join(unknown)}")
        if self.baseline_size not in ("matched", "preset"):
            raise ConfigError(f"baseline_size must be 'matched' or 'preset', got {self.baseline_size!r}")
        return self


def _supernet(settings: RunSettings):
    """The untrained supernet of the chosen family, with its config and mel settings."""
    from ..vocoder.api import load_vocoder
    from ..vocoder.generator import Generator
    from .decompose import decompose

    teacher = load_vocoder(settings.teacher)
    if settings.family == "decomposed":
        gen, cfg = decompose(teacher.generator, teacher.gen_config, "lowrank", 0)
        return gen, cfg, teacher.mel_config
    import torch

    torch.manual_seed(settings.seed)
    if settings.family == "fourier":
        from ..vocoder.family import build_generator

        cfg = GENERATOR_PRESETS["fourier"]
        return build_generator(cfg), cfg, teacher.mel_config
    cfg = dataclasses.replace(GENERATOR_PRESETS["lite"], resblock_conv="lowrank", resblock_rank=0)
    return Generator.from_config(cfg), cfg, teacher.mel_config


def count_params(config: GeneratorConfig) -> int:
    from ..vocoder.generator import Generator

    return sum(p.numel() for p in Generator.from_config(config).parameters())


def size_matched(config: GeneratorConfig, params: int) -> GeneratorConfig:
    """`config` with the width (`upsample_initial_channel`) whose parameter count is closest to `params`.

    Every stage halves the width, so the width stays a multiple of 2**stages; the architecture (rates,
    kernels, dilations, resblock type) is kept, which is what "a v2/v3 of the same size" means.
    """
    step = 2 ** len(config.upsample_rates)
    best = None
    for width in range(step, 4 * config.upsample_initial_channel + step, step):
        cand = dataclasses.replace(config, upsample_initial_channel=width)
        n = count_params(cand)
        if best is None or abs(n - params) < best[0]:
            best = (abs(n - params), cand)
        if n > params:
            break
    return best[1]


def _train(settings: RunSettings, run_dir: Path, weights: dict[str, float], data: Path, **kwargs) -> Path:
    from ..train.distributed import init_distributed
    from ..vocoder.task import train_gan

    cfg = dataclasses.replace(settings.train, max_steps=settings.steps, loss_weights=dict(weights),
                              seed=settings.train.seed + settings.seed)
    result = train_gan(data_root=data, run_dir=run_dir, train_config=cfg, env=init_distributed(settings.device),
                       resume=True, **{"gen_config": None, **kwargs})
    if result.interrupted:  # Ctrl-C: the stage checkpointed; stop here instead of starting the next one
        raise KeyboardInterrupt
    return run_dir / "generator.safetensors"


def _copy_model(src: Path, models: Path, label: str) -> str:
    models.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, models / f"{label}.safetensors")
    return str(models / f"{label}.safetensors")


def run_compression(data: str | Path, out: str | Path, settings: RunSettings, console=None) -> Path:
    """Run every stage (see the module doc); returns the report's path."""
    from ..console import console as stderr_console
    from ..data.corpora import load_split
    from ..vocoder.api import load_vocoder
    from ..vocoder.checkpoint import save_generator
    from .search import SearchLimits, path_choices, run_search
    from .supernet import extract
    from .supernet_task import SupernetDistilTask

    settings.check()
    console = console or stderr_console
    data, out = Path(data), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models = out / "models"
    cache = out / "teacher_cache"
    stages = 8
    summary: dict[str, Any] = {"settings": _settings_dict(settings)}

    console.rule(f"1/{stages} teacher cache ({settings.teacher})")
    from ..vocoder.teacher_cache import build_teacher_cache

    build_teacher_cache(settings.teacher, load_split(data, "train"), cache, device=settings.device)

    console.rule(f"2/{stages} supernet ({settings.family}), {settings.steps} steps")
    gen, cfg, mel = _supernet(settings)
    init_path = save_generator(models / f"{settings.family}-init.safetensors", gen, cfg, mel,
                               extra={"teacher": settings.teacher, "stage": "untrained supernet"})
    choices = path_choices(gen)
    supernet_path = _train(settings, out / "supernet", DISTIL, data, teacher=settings.teacher,
                           student=(gen.train(), cfg, mel), teacher_cache=cache,
                           task_factory=partial(SupernetDistilTask, choices=choices, seed=settings.seed))

    console.rule(f"3/{stages} search, {settings.trials} trials")
    sn = load_vocoder(supernet_path)
    teacher = load_vocoder(settings.teacher)
    val = load_split(data, "val") or load_split(data, "test")
    mels = [sn.mel(u.wav_path) for u in val[:8]]
    limits = SearchLimits(min_x_real_time=1.0 / settings.max_rtf if settings.max_rtf else None,
                          max_macs=settings.max_macs, max_params=settings.max_params)
    _, front = run_search(supernet=sn.generator, config=sn.gen_config, teacher=teacher.generator, mels=mels,
                          mel_config=sn.mel_config, out_dir=out / "search", trials=settings.trials,
                          limits=limits, seed=settings.seed)
    if not front:
        raise ConfigError("the search found no path within the limits; relax --max-rtf/--max-params/--max-macs "
                          "or run more --trials")
    chosen = min(front, key=lambda r: r["mel_l1"])
    ranks = tuple(chosen["ranks"])
    summary["chosen"] = chosen
    console.print(f"chosen path: ranks {ranks} ({chosen['x_real_time']:.1f}x real-time, mel L1 {chosen['mel_l1']:.3f})")

    console.rule(f"4/{stages} fine-tune the chosen sub-student")
    sub, sub_cfg = extract(sn.generator, sn.gen_config, ranks)  # from the fused supernet
    sub_path = save_generator(models / "searched-untuned.safetensors", sub, sub_cfg, mel,
                              extra={"ranks": list(ranks), "stage": "extracted"})
    tune = dict(DISTIL, **(PHASE if settings.family == "fourier" else {}))
    if settings.adversarial:
        tune.update({"adv/gen": 1.0, "adv/feat": 2.0})

    def finetune(run: Path, weights: dict[str, float]) -> Path:
        from ..vocoder.task import make_generator

        student = make_generator(gen_config=None, init=str(sub_path), seed=settings.seed)
        return _train(settings, run, weights, data, teacher=settings.teacher, student=student, teacher_cache=cache)

    labels = {settings.teacher: settings.teacher}
    labels["searched"] = _copy_model(finetune(out / "student", tune), models, "searched")
    labels[f"{settings.family}-supernet-largest"] = _copy_model(supernet_path, models,
                                                                f"{settings.family}-supernet-largest")

    console.rule(f"5/{stages} baselines without a teacher: {', '.join(settings.baselines) or 'none'}")
    student_params = sum(p.numel() for p in sub.parameters())
    for preset in settings.baselines:
        base_cfg, name = GENERATOR_PRESETS[preset], f"{preset}-scratch"
        if settings.baseline_size == "matched":
            base_cfg, name = size_matched(base_cfg, student_params), f"{preset}-matched-scratch"
            console.print(f"{preset} narrowed to width {base_cfg.upsample_initial_channel}: "
                          f"{count_params(base_cfg) / 1e6:.3f} M params (student {student_params / 1e6:.3f} M)")
        path = _train(settings, out / "baselines" / name.removesuffix("-scratch"), SCRATCH, data,
                      gen_config=base_cfg)
        labels[name] = _copy_model(path, models, name)

    ablation_labels = []
    console.rule(f"6/{stages} ablation of the distillation terms" + ("" if settings.ablation else " (skipped)"))
    if settings.ablation:
        for term in ABLATE + (tuple(PHASE) if settings.family == "fourier" else ()):
            name = "no-" + term.replace("/", "-")
            path = finetune(out / "ablation" / name, {**tune, term: 0.0})
            labels[name] = _copy_model(path, models, name)
            ablation_labels.append((term, name))

    console.rule(f"7/{stages} evaluation")
    if settings.family == "decomposed":
        labels["decomposed-untrained"] = str(init_path)
    labels["searched-untuned"] = str(sub_path)
    summary["models"] = labels
    from .report import write_compression_report

    return write_compression_report(out, data, labels, summary, ablation_labels, settings, console)


def _settings_dict(s: RunSettings) -> dict[str, Any]:
    d = {k: v for k, v in dataclasses.asdict(s).items() if k != "train"}
    d["train"] = to_dict(s.train)
    return json.loads(json.dumps(d, default=list))


__all__ = ["RunSettings", "run_compression", "size_matched", "FAMILIES"]
