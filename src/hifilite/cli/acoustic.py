"""`hifilite acoustic ...`: feature caching and training of FastSpeech 2 / LightSpeech models.

    hifilite acoustic prepare --data corpus                     # features + stats (resumable)
    hifilite acoustic train --data corpus --arch lightspeech -o runs/ls --steps 2000
    hifilite acoustic train --data corpus --arch 'sep5,attn2/sep17,sep9;hidden=128' -o runs/x
    hifilite acoustic teacher-mels --teacher runs/fs2 --data corpus -o corpus-fs2-mels
    hifilite acoustic train --data corpus --arch lightspeech --teacher-mels corpus-fs2-mels -o runs/kd
    hifilite acoustic info runs/ls                               # params and architecture
    hifilite acoustic search --data corpus -o runs/search --samples 24 --steps 100 --min-speedup 6.5
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List, Optional

import typer

from ..console import console, quiet_console
from ._app import app
from ._options import device as device_option
from ._options import number, output_file

acoustic_app = typer.Typer(help="Acoustic models (text -> mel): FastSpeech 2, LightSpeech.", no_args_is_help=True)
app.add_typer(acoustic_app, name="acoustic")


@acoustic_app.command()
def prepare(
    data: Path = typer.Option(..., "--data", help="LJSpeech-layout corpus (with alignments/ or --textgrids)."),
    textgrids: Optional[Path] = typer.Option(None, "--textgrids", help="Folder of MFA <id>.TextGrid files."),
    pitch: Optional[str] = typer.Option(None, "--pitch", help="pyworld or pyin (default: pyworld if it imports)."),
    threads: int = typer.Option(1, "--threads", min=1, help="CPU threads for torch."),
) -> None:
    """Cache phoneme ids, durations, mels, pitch and energy; write normalisation statistics."""
    import torch

    from ..data.features import prepare_features, read_stats

    torch.set_num_threads(threads)
    out = prepare_features(data, textgrids=textgrids, pitch=pitch, progress=True)
    stats = read_stats(data)
    n = {k: len(v) for k, v in stats["splits"].items()}
    console.print(f"{out}: {sum(n.values())} utterances ({n['train']} train, {n['val']} val, {n['test']} test), "
                  f"pitch from {stats['pitch_backend']}", highlight=False)


def _recorded_command(run: Path) -> str | None:
    """The training command stored in a run's exported model, if it has one (reads the file's
    metadata only)."""
    import json

    from ..acoustic.checkpoint import acoustic_file
    from ..errors import HifiliteError
    from ..io import read_safetensors_metadata

    try:
        return json.loads(read_safetensors_metadata(acoustic_file(run)).get("extra", "{}")).get("command")
    except (HifiliteError, json.JSONDecodeError, AttributeError):
        return None


@acoustic_app.command()
def train(
    data: Optional[Path] = typer.Option(None, "--data", help="Prepared corpus (run `hifilite acoustic prepare` "
                                        "first); a resumed run defaults to the one it was trained on."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder: checkpoints, logs, acoustic.safetensors."),
    arch: Optional[str] = typer.Option(None, "--arch", help="fastspeech2, lightspeech, or 'ENC_OPS/DEC_OPS[;key=value]'."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Train until this many steps in total."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1),
    learning_rate: Optional[float] = typer.Option(None, "--lr", callback=number(0), help="Peak learning rate (after warm-up)."),
    warmup: int = typer.Option(400, "--warmup", min=0, help="Warm-up steps of the learning-rate schedule."),
    weight: List[str] = typer.Option([], "--weight", help="Loss weight NAME=VALUE (mel/loss, duration/loss, ...)."),
    checkpoint_interval: Optional[int] = typer.Option(None, "--checkpoint-interval", min=1),
    keep_checkpoints: Optional[int] = typer.Option(
        None, "--keep-checkpoints", min=1, help="Training checkpoints kept (default 3); more give a longer WER curve."),
    validation_interval: Optional[int] = typer.Option(None, "--validation-interval", min=1),
    summary_interval: Optional[int] = typer.Option(None, "--summary-interval", min=1),
    seed: Optional[int] = typer.Option(None, "--seed", min=0),
    device: str = typer.Option("auto", "--device", callback=device_option(auto=True), help="auto, cpu or cuda."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    init: Optional[str] = typer.Option(None, "--init", help="Fine-tune: start from this acoustic model's weights and "
                                       "architecture (file, run folder or shipped name; same phoneme set)."),
    teacher_mels: Optional[Path] = typer.Option(None, "--teacher-mels", help="Distil: also fit a teacher's mels "
                                                "(folder from `hifilite acoustic teacher-mels`; term mel/distil)."),
) -> None:
    """Train an acoustic model on the shared training loop."""
    import torch

    from ..acoustic.models import parse_arch
    from ..acoustic.task import default_train_config, train_acoustic
    from ..config import TrainConfig, from_dict, parse_weights
    from ..errors import ConfigError
    from ..train.distributed import init_distributed, shutdown
    from ..train.state import read_run_config

    if threads:
        torch.set_num_threads(threads)
    stored = read_run_config(out) if resume else None
    tc = from_dict(TrainConfig, stored["train"], "config.json: train") if stored else default_train_config()
    weights = parse_weights(weight, tc.loss_weights)
    flags = {"max_steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
             "checkpoint_interval": checkpoint_interval, "keep_checkpoints": keep_checkpoints,
             "validation_interval": validation_interval,
             "summary_interval": summary_interval, "seed": seed}
    tc = dataclasses.replace(tc, loss_weights=weights, **{k: v for k, v in flags.items() if v is not None})
    if init and (arch or stored):
        raise ConfigError("--init starts a new run with the model's own architecture; omit --arch and --resume")
    if arch is None and not stored and not init:
        arch = "lightspeech"
    if stored and arch:
        raise ConfigError("--arch cannot change when resuming; omit it")
    if data is None:
        if not stored:
            raise ConfigError("--data is required to start a run (a resumed run remembers its corpus)")
        data = Path(stored["data"]["root"])
    warmup = stored.get("warmup_steps", warmup) if stored else warmup
    if stored:  # how the run was started, then this continuation
        started = _recorded_command(out) or f"hifilite acoustic train --data {data} -o {out} (started before)"
        command = f"{started} && hifilite acoustic train -o {out} --steps {tc.max_steps} --resume"
    else:
        start = f"--init {init}" if init else f"--arch '{arch}'"
        command = (f"hifilite acoustic train --data {data} -o {out} {start} "
                   f"--steps {tc.max_steps} --batch-size {tc.batch_size} --lr {tc.learning_rate} --warmup {warmup} "
                   f"--seed {tc.seed}" + "".join(f" --weight {k}={v}" for k, v in weights.items())
                   + (f" --teacher-mels {teacher_mels}" if teacher_mels else ""))
    env = init_distributed(device)
    try:
        result = train_acoustic(data_root=data, run_dir=out, arch=parse_arch(arch) if arch else None, train_config=tc,
                                warmup_steps=warmup, env=env, resume=resume, console=console, command=command,
                                teacher_mels=teacher_mels, init=init)
    finally:
        shutdown(env)
    if env.is_main:
        console.print(f"step {result.state.step}: acoustic model at {out / 'acoustic.safetensors'}", highlight=False)
    if result.interrupted:
        raise typer.Exit(130)


@acoustic_app.command("teacher-mels")
def teacher_mels_command(
    teacher: str = typer.Option(..., "--teacher", help="Trained acoustic model (file, run folder or shipped name) "
                                "of this corpus, e.g. a FastSpeech 2 run."),
    data: Path = typer.Option(..., "--data", help="Prepared corpus the teacher was trained on."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for <id>.npy teacher mels and teacher.json."),
    split: str = typer.Option("train", "--split", help="Corpus split to write."),
    threads: int = typer.Option(1, "--threads", min=1, help="CPU threads for torch."),
) -> None:
    """Write a teacher's teacher-forced mels for sequence-level distillation (resumable)."""
    import torch

    from ..acoustic.distil import write_teacher_mels

    torch.set_num_threads(threads)
    info = write_teacher_mels(teacher, data, out, split=split)
    console.print(f"{out}: {info['utterances']} teacher mels of {info['teacher']} (step {info['step']}, "
                  f"{info['params'] / 1e6:.2f} M params)", highlight=False)


@acoustic_app.command("vocoder-mels")
def vocoder_mels_command(
    model: str = typer.Option(..., "--model", help="Trained acoustic model (file, run folder or shipped name) of "
                              "this corpus's voice, e.g. joe-lightspeech-10h."),
    data: Path = typer.Option(..., "--data", help="Prepared corpus of the same voice (`hifilite acoustic prepare`)."),
    splits: list[str] = typer.Option(["train", "val", "test"], "--split", help="Splits to write (repeatable)."),
    threads: int = typer.Option(1, "--threads", min=1, help="CPU threads for torch."),
) -> None:
    """Write the model's teacher-forced mels as wavs/<id>.npy, the input of `hifilite train --mels npy`
    (a vocoder fine-tuned on what it will hear in text-to-speech; resumable)."""
    import torch

    from ..acoustic.vocoder_mels import write_vocoder_mels

    torch.set_num_threads(threads)
    info = write_vocoder_mels(model, data, splits=splits)
    console.print(f"{data}/wavs: {info['utterances']} mels of {info['model']} (step {info['step']}) for "
                  f"{', '.join(info['splits'])}", highlight=False)


@acoustic_app.command()
def info(model: Path = typer.Argument(..., help="acoustic.safetensors or a run folder.")) -> None:
    """Parameters, architecture and provenance of an acoustic model."""
    from ..acoustic.models import arch_string
    from ..acoustic.checkpoint import load_acoustic

    loaded = load_acoustic(model)
    m = loaded.model
    typer.echo(f"params {m.num_parameters():,}  arch {arch_string(m.config)}")
    for k, v in loaded.extra.items():
        typer.echo(f"{k}: {v}")


@acoustic_app.command("export")
def export_cmd(
    model: Path = typer.Argument(..., help="acoustic.safetensors or a run folder."),
    out: Path = typer.Option(..., "-o", "--out", help="Output .onnx (its sidecar goes beside it as .json)."),
) -> None:
    """Export to ONNX with dynamic lengths and a duration-scale input; the export checks parity with
    PyTorch (`hifilite.deploy.parity`) and is refused when they differ."""
    from ..deploy.export import export_onnx
    from ..runtime.sidecar import read_sidecar, sidecar_path
    from ..acoustic.checkpoint import acoustic_file, load_acoustic
    from ._options import refuse_overwriting

    output_file(out, inputs=[model])
    source = acoustic_file(model)
    refuse_overwriting([out, sidecar_path(out)], [source], "choose another output path")
    path, side = export_onnx(load_acoustic(source), out)
    diff = read_sidecar(side, kind="acoustic")["parity_max_abs_diff"]
    console.print(f"{path}: max |ONNX - PyTorch| {diff:.1e}", highlight=False)


@acoustic_app.command()
def search(
    data: Path = typer.Option(..., "--data", help="Prepared corpus (run `hifilite acoustic prepare` first)."),
    out: Path = typer.Option(..., "-o", "--out", help="Search folder: study.db, trial runs, search.json/png, "
                                                     "acoustic.safetensors of the chosen model."),
    samples: int = typer.Option(24, "--samples", min=1, help="Architectures to sample and train briefly."),
    steps: int = typer.Option(100, "--steps", min=1, help="Training steps of each sampled architecture."),
    candidates: int = typer.Option(2000, "--candidates", min=1, help="Random architectures ranked by the predictor."),
    top_k: int = typer.Option(3, "--top-k", min=1, help="Best-predicted architectures within the budget to train longer."),
    final_steps: int = typer.Option(400, "--final-steps", min=1, help="Training steps of each of the top k."),
    max_latency_ms: Optional[float] = typer.Option(None, "--max-latency-ms",
                                                   callback=number(0, lo_open=True), help="Latency budget on 1 thread for the fixed input."),
    min_speedup: Optional[float] = typer.Option(None, "--min-speedup",
                                                callback=number(0, lo_open=True), help="Budget as a speed-up over FastSpeech 2 (same input, 1 thread)."),
    layers: str = typer.Option("4/4", "--layers", help="Encoder/decoder layer counts, e.g. 4/4."),
    ops: Optional[str] = typer.Option(None, "--ops", help="Comma-separated operations (default: all of "
                                                          "sep1..sep25, attn2/4/8, ffn, id)."),
    hidden: int = typer.Option(256, "--hidden", min=1, help="Width of every searched model."),
    settings: str = typer.Option("predictor=sep", "--settings",
                                 help="Further architecture settings, e.g. 'predictor=sep;n_bins=128'."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    learning_rate: float = typer.Option(1e-3, "--lr", callback=number(0), help="Peak learning rate (after warm-up)."),
    warmup: int = typer.Option(50, "--warmup", min=0, help="Warm-up steps of the learning-rate schedule."),
    latency_phonemes: int = typer.Option(64, "--latency-phonemes", min=1, help="Phonemes of the fixed latency input."),
    latency_repeats: int = typer.Option(7, "--latency-repeats", min=1, help="Timed repeats (median) per architecture."),
    seed: int = typer.Option(0, "--seed", min=0),
    threads: int = typer.Option(1, "--threads", min=1, help="CPU threads for training (latency is always 1 thread)."),
) -> None:
    """LightSpeech search: train sampled architectures briefly, fit a boosted-tree loss predictor,
    rank many candidates, measure latency, train the best few longer, choose under a latency budget.
    Re-running with the same --out continues the search."""
    import sys

    from ..checkpoint import invocation

    import torch

    from ..acoustic.models import OPS
    from ..acoustic.search import SearchSettings, SearchSpace, run_search
    from ..acoustic.task import default_train_config
    from ..errors import ConfigError

    torch.set_num_threads(threads)
    enc, sep, dec = layers.partition("/")
    try:
        n_enc, n_dec = int(enc), int(dec)
    except ValueError:
        sep = ""
    if not sep:
        raise ConfigError(f"--layers expects ENCODER/DECODER counts such as 4/4, got {layers!r}")
    op_list = tuple(o.strip() for o in ops.split(",") if o.strip()) if ops is not None else OPS
    extra = f";{settings.strip(';')}" if settings.strip(";") else ""
    space = SearchSpace(encoder_layers=n_enc, decoder_layers=n_dec, ops=op_list, settings=f"hidden={hidden}{extra}")
    cfg = SearchSettings(space=space, samples=samples, steps=steps, candidates=candidates, top_k=top_k,
                         final_steps=final_steps, max_latency_ms=max_latency_ms, min_speedup=min_speedup,
                         latency_phonemes=latency_phonemes, latency_repeats=latency_repeats, warmup=warmup, seed=seed)
    tc = dataclasses.replace(default_train_config(), batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                             summary_interval=max(1, min(50, steps)))
    command = invocation() if sys.argv[1:2] == ["acoustic"] else None
    report = run_search(data_root=data, out_dir=out, settings=cfg, train_config=tc, console=quiet_console,
                        log=lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True), command=command)
    c = report["chosen"]
    rho = report["predictor"]["spearman_heldout"]
    console.print(f"chosen {c['arch']}: val mel L1 {c['val_mel_l1']:.4f} after {c['steps']} steps, "
                  f"{c['latency_ms']:.1f} ms on 1 thread ({c['speedup']:.1f}x FastSpeech 2), {c['params']:,} params; "
                  f"predictor Spearman {'n/a' if rho is None else f'{rho:.2f}'}; "
                  f"{out / 'search.json'}, {out / 'acoustic.safetensors'}", highlight=False, markup=False,
                  soft_wrap=True)
