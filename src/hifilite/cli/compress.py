"""`hifilite compress ...`: teacher decomposition (distillation, supernet and search build on it)."""

from pathlib import Path
from typing import List, Optional

import typer

from ..console import console
from ._app import app
from ._options import BaselineSize, DecompositionForm, StudentFamily, device as device_option
from ._options import number, output_file

compress_app = typer.Typer(help="Compress a HiFi-GAN teacher into a compact student.", no_args_is_help=True)
app.add_typer(compress_app, name="compress")


@compress_app.command()
def decompose(
    out: Path = typer.Option(..., "-o", "--out", help="Student checkpoint (.safetensors)."),
    teacher: str = typer.Option("lj-v1", help="Teacher model name or path."),
    form: DecompositionForm = typer.Option(DecompositionForm.lowrank,
                                           help="lowrank (channel SVD) or separable (depthwise + pointwise)."),
    rank: int = typer.Option(0, min=0, help="lowrank: inner channels; separable: depth multiplier; 0 = exact."),
    ranks: Optional[str] = typer.Option(None, help="One rank (or multiplier) per upsampling stage, e.g. 16,8 "
                                        "(instead of --rank)."),
) -> None:
    """Decompose the teacher's resblock convolutions into a student initialised from its weights."""
    from ..compress.decompose import decompose as run
    from ..compress.decompose import truncate
    from ..vocoder.api import load_vocoder

    stage_ranks = _parse_ranks(ranks) if ranks else ()
    output_file(out, inputs=[Path(teacher)])
    voc = load_vocoder(teacher)
    student, cfg = run(voc.generator, voc.gen_config, form.value, 0 if stage_ranks else rank)
    if stage_ranks:  # the leading components of the exact decomposition, per stage
        student, cfg = truncate(student, cfg, stage_ranks)
    from ..vocoder.checkpoint import save_generator

    save_generator(out, student, cfg, voc.mel_config, extra={"teacher": teacher, "form": form.value, "rank": rank,
                                                             "stage_ranks": list(stage_ranks)})
    n_t = sum(p.numel() for p in voc.generator.parameters())
    n_s = sum(p.numel() for p in student.parameters())
    console.print(f"{out}: {form.value} rank {ranks or rank or 'full'}: {n_s / 1e6:.2f} M params "
                  f"(teacher {n_t / 1e6:.2f} M)")


def _parse_floats(text: str, option: str) -> list[float]:
    from ..errors import ConfigError

    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"{option} expects comma-separated numbers, got {text!r}") from None


def _parse_ranks(ranks: str) -> tuple[int, ...]:
    from ..errors import ConfigError

    try:
        parsed = tuple(int(r) for r in ranks.split(","))
    except ValueError:
        raise ConfigError(f"--ranks expects comma-separated integers, got {ranks!r}") from None
    if any(r < 0 for r in parsed):
        raise ConfigError(f"--ranks must be >= 0, got {ranks!r}")
    return parsed


@compress_app.command()
def distil(
    data: List[Path] = typer.Option(..., help="Corpus folder (LJSpeech layout, VCTK or audio folder); repeat "
                                    "to train on a mixture."),
    data_weights: Optional[str] = typer.Option(None, help="Comma-separated share of each --data in the training "
                                               "items, e.g. 3,1 (default: the corpora as they are)."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder (checkpoints, TensorBoard, generator.safetensors)."),
    teacher: str = typer.Option("lj-v1", help="Teacher model name or path."),
    student: Optional[Path] = typer.Option(None, help="Start from this student checkpoint instead of decomposing."),
    form: DecompositionForm = typer.Option(DecompositionForm.lowrank,
                                           help="Decomposition when no --student: lowrank or separable."),
    rank: int = typer.Option(64, min=0, help="Decomposition rank / depth multiplier (0 = exact)."),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON with TrainConfig keys."),
    weight: List[str] = typer.Option([], help="Loss weight override NAME=VALUE (0 ablates a term); repeatable."),
    adversarial: bool = typer.Option(False, help="Add MPD + MSD terms (adv/gen 1, adv/feat 2)."),
    steps: Optional[int] = typer.Option(None, min=1, help="Stop after this many steps."),
    batch_size: Optional[int] = typer.Option(None, min=1),
    segment_size: Optional[int] = typer.Option(None, min=1),
    checkpoint_interval: Optional[int] = typer.Option(None, min=1),
    teacher_cache: Optional[Path] = typer.Option(
        None, help="Folder of cached teacher outputs (built where missing; shared between runs)."),
    device: str = typer.Option("auto", callback=device_option(auto=True), help="auto, cpu or cuda."),
    resume: bool = typer.Option(False, help="Continue the run in --out."),
    augment: bool = typer.Option(False, help="Augment each batch's audio (pitch, formant, speed, tilt, gain, noise; "
                                 "settings in the --config file's 'augment' section); the teacher then runs on the "
                                 "augmented mel at every step (no --teacher-cache)."),
) -> None:
    """Distil the teacher into a decomposed student on the shared training loop."""
    import dataclasses
    import functools

    from ..compress.augmented import AugmentedDistilTask
    from ..compress.decompose import decompose as run_decompose
    from ..config import DISTIL_WEIGHTS, TrainConfig, from_dict, load_file, parse_weights
    from ..data.augment import AugmentConfig
    from ..errors import ConfigError
    from ..train.distributed import init_distributed
    from ..vocoder.task import make_generator, train_gan
    from ..vocoder.api import load_vocoder

    file_cfg = load_file(config) if config else {}
    aug_section = file_cfg.pop("augment", None)  # the augmentation's own section of the config file
    train = from_dict(TrainConfig, file_cfg, str(config),
                      base=dataclasses.replace(TrainConfig(), loss_weights=dict(DISTIL_WEIGHTS), batch_size=8))
    aug_config = from_dict(AugmentConfig, aug_section, f"{config}: augment") if aug_section else AugmentConfig()
    if aug_section and not augment:
        raise ConfigError(f"{config} has an 'augment' section: add --augment to use it")
    if augment and teacher_cache is not None:
        raise ConfigError("--augment runs the teacher on each augmented batch; a --teacher-cache cannot hold those")
    mix = _parse_floats(data_weights, "--data-weights") if data_weights else None
    weights = dict(train.loss_weights)
    if adversarial:  # after --config, so a file's weights do not switch the discriminators back off
        weights.update({"adv/gen": 1.0, "adv/feat": 2.0})
    train = dataclasses.replace(train, loss_weights=parse_weights(weight, weights))
    flags = {"max_steps": steps, "batch_size": batch_size, "segment_size": segment_size,
             "checkpoint_interval": checkpoint_interval}
    train = dataclasses.replace(train, **{k: v for k, v in flags.items() if v is not None})
    if student is not None:
        made = make_generator(gen_config=None, init=str(student), seed=train.seed)
    else:
        voc = load_vocoder(teacher)
        gen, cfg = run_decompose(voc.generator, voc.gen_config, form.value, rank)
        made = (gen.train(), cfg, voc.mel_config)
    factory = functools.partial(AugmentedDistilTask, augment=aug_config, augment_seed=train.seed) if augment else None
    result = train_gan(data_root=list(data), run_dir=out, gen_config=None, train_config=train,
                       env=init_distributed(device), resume=resume, teacher=teacher, student=made, console=console,
                       teacher_cache=teacher_cache, task_factory=factory, data_weights=mix)
    console.print(f"distilled to step {result.state.step}: {out / 'generator.safetensors'}")


@compress_app.command()
def search(
    supernet: Path = typer.Option(..., help="Trained supernet: a decomposed student checkpoint or run folder."),
    data: Path = typer.Option(..., help="Corpus whose validation split gives the quality proxy."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for pareto.json, pareto.png and study.db."),
    teacher: str = typer.Option("lj-v1", help="Teacher the paths are compared with."),
    trials: int = typer.Option(30, min=1, help="Total trials in the study (a resumed study runs the rest)."),
    storage: Optional[str] = typer.Option(None, help="Optuna storage URL (default sqlite:///OUT/study.db)."),
    study_name: str = typer.Option("hifilite-search", help="Study name inside the storage."),
    max_rtf: Optional[float] = typer.Option(None, callback=number(0, lo_open=True), help="Real-time factor limit on 1 thread (0.02 = 50x real-time)."),
    max_macs: Optional[float] = typer.Option(None, callback=number(0, lo_open=True), help="MACs per second of audio, at most."),
    max_params: Optional[int] = typer.Option(None, min=1, help="Parameters, at most."),
    utterances: int = typer.Option(8, min=1, help="Validation utterances for the quality proxy."),
    seed: int = typer.Option(0, min=0),
) -> None:
    """Search the supernet for sub-students on the quality / measured-speed Pareto front."""
    from ..compress.search import SearchLimits, run_search
    from ..data.corpora import load_split
    from ..vocoder.api import load_vocoder

    sn = load_vocoder(supernet, for_training=False)
    tv = load_vocoder(teacher)
    utts = load_split(data, "val")[:utterances] or load_split(data, "test")[:utterances]
    mels = [sn.mel(u.wav_path) for u in utts]
    limits = SearchLimits(min_x_real_time=1.0 / max_rtf if max_rtf else None, max_macs=max_macs, max_params=max_params)
    _, front = run_search(supernet=sn.generator, config=sn.gen_config, teacher=tv.generator, mels=mels,
                          mel_config=sn.mel_config, out_dir=out, trials=trials, storage=storage,
                          study_name=study_name, limits=limits, seed=seed)
    for r in front:
        console.print(f"ranks {tuple(r['ranks'])}: mel L1 {r['mel_l1']:.3f}, {r['x_real_time']:.1f}x real-time, "
                      f"{r['params'] / 1e6:.2f} M params")
    console.print(f"Pareto front: {out / 'pareto.json'}")


@compress_app.command()
def extract(
    supernet: Path = typer.Option(..., help="Supernet checkpoint or run folder."),
    ranks: str = typer.Option(..., help="Comma-separated rank per stage, e.g. 32,16,8,4."),
    out: Path = typer.Option(..., "-o", "--out", help="Sub-student checkpoint (.safetensors)."),
) -> None:
    """Extract one supernet path as a standalone sub-student (loads with no supernet code)."""
    from ..compress.supernet import extract as run_extract
    from ..vocoder.api import load_vocoder
    from ..vocoder.checkpoint import save_generator

    stage_ranks = _parse_ranks(ranks)
    output_file(out, inputs=[supernet])
    sn = load_vocoder(supernet)
    sub, cfg = run_extract(sn.generator, sn.gen_config, stage_ranks)
    save_generator(out, sub, cfg, sn.mel_config, extra={"supernet": str(supernet), "ranks": list(stage_ranks)})
    console.print(f"{out}: {sum(p.numel() for p in sub.parameters()) / 1e6:.2f} M params, ranks {stage_ranks}")


@compress_app.command("run")
def run_all(
    data: Path = typer.Option(..., help="Corpus folder with train/val/test splits (LJSpeech layout, VCTK, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder; running again resumes every stage."),
    teacher: str = typer.Option("lj-v1", help="Teacher model name or path."),
    family: StudentFamily = typer.Option(StudentFamily.lite, help="Student family: lite (iSTFT head, fast), fourier (frame-rate ConvNeXt + "
                          "iSTFT hop 256, fastest) or decomposed (teacher SVD)."),
    steps: int = typer.Option(2000, min=1, help="Training steps per stage (supernet, fine-tune, each baseline/ablation)."),
    trials: int = typer.Option(24, min=1, help="Search trials."),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON with TrainConfig keys (batch, segment, lr, ...)."),
    adversarial: bool = typer.Option(False, help="Fine-tune with MPD + MSD as well."),
    baselines: str = typer.Option("v2,v3", help="Presets trained from scratch with the same steps ('' for none)."),
    baseline_size: BaselineSize = typer.Option(BaselineSize.matched, help="matched: baselines narrowed to the searched student's "
                                      "parameter count; preset: their published size."),
    ablation: bool = typer.Option(True, help="Repeat the fine-tune with each distillation term off."),
    max_rtf: Optional[float] = typer.Option(None, callback=number(0, lo_open=True), help="Real-time factor limit on 1 thread (0.02 = 50x)."),
    max_macs: Optional[float] = typer.Option(None, callback=number(0, lo_open=True), help="MACs per second of audio, at most."),
    max_params: Optional[int] = typer.Option(None, min=1, help="Parameters, at most."),
    eval_utterances: int = typer.Option(16, min=1, help="Test utterances evaluated per model."),
    metrics: Optional[str] = typer.Option(None, help="Comma-separated metrics (default: all available)."),
    bench_seconds: float = typer.Option(4.0, callback=number(0, lo_open=True), help="Seconds of audio per speed measurement."),
    device: str = typer.Option("cpu", callback=device_option(auto=True), help="cpu, cuda or auto."),
    seed: int = typer.Option(0, min=0),
) -> None:
    """Every stage: teacher cache, supernet, search, fine-tune, baselines, ablation, evaluation, report."""
    from ..compress.pipeline import RunSettings, run_compression
    from ..config import train_config_with_file

    train = train_config_with_file(RunSettings().train, config)
    settings = RunSettings(teacher=teacher, family=family.value, steps=steps, trials=trials, train=train,
                           adversarial=adversarial, baselines=tuple(b for b in baselines.split(",") if b),
                           baseline_size=baseline_size.value,
                           ablation=ablation, max_rtf=max_rtf, max_macs=max_macs, max_params=max_params,
                           eval_limit=eval_utterances, metrics=metrics.split(",") if metrics else None,
                           bench_seconds=bench_seconds, device=device, seed=seed)
    run_compression(data, out, settings, console=console)
