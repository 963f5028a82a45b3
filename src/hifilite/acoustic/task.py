"""Acoustic-model training as a `Task` on the shared loop (`hifilite.train.loop.fit`).

Loss, as FastSpeech 2:

    total = sum(loss_weights[name] * term[name])   for name in mel/loss, duration/loss, pitch/loss, energy/loss

`mel/loss` is the L1 between predicted and target log-mels over valid frames; `duration/loss` the
MSE between predicted and target log(1 + frames); `pitch/loss` and `energy/loss` the MSE of the
phoneme-level normalised values, all over valid (unpadded) positions. With a teacher's mels
(`acoustic.distil`, sequence-level distillation) a fifth term `mel/distil`, the L1 to the
teacher's mel, joins with weight 1 unless set. Training is teacher-forced
(target durations, pitch and energy are regulated and embedded). Adam with betas (0.9, 0.98) and the
Transformer schedule: linear warm-up for `warmup_steps`, then decay with 1/sqrt(step).

Validation reports the same terms on whole utterances plus `mel/predicted_variance` (mel L1 with
the reference durations but the model's own pitch and energy: the TTS benchmark's mel L1),
`duration/abs_frames` (mean absolute error of the rounded predicted durations) and `mel/free_l1`
(mel L1 when the model uses its own durations, pitch and energy, over the overlapping frames), and
shows spectrograms.
Every checkpoint also writes `acoustic.safetensors` (self-describing) in the run folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable

import torch

from ..checkpoint import invocation
from ..config import ACOUSTIC_WEIGHTS, TrainConfig, mel_config, to_dict
from ..errors import ConfigError, DataError
from ..train.distributed import DistEnv, unwrap
from ..train.loop import RESUMABLE_KEYS, FitResult, Task, TaskContext, Validation, fit
from ..data.acoustic_dataset import AcousticDataset, collate
from ..data.feature_cache import energy_stats, read_stats
from .distil import check_teacher
from .models import AcousticConfig, AcousticModel, sequence_mask
from .checkpoint import LoadedAcoustic, acoustic_file, load_acoustic, save_acoustic

TERMS = ("mel/loss", "duration/loss", "pitch/loss", "energy/loss")
DISTIL_TERM = "mel/distil"
EXPORT_NAME = "acoustic.safetensors"


def default_train_config() -> TrainConfig:
    """TrainConfig with the acoustic model's defaults (FastSpeech 2: batch 16, Adam 0.9/0.98)."""
    return dataclasses.replace(TrainConfig(), batch_size=16, learning_rate=1e-3, adam_b1=0.9, adam_b2=0.98,
                               lr_decay=1.0, loss_weights=dict(ACOUSTIC_WEIGHTS), checkpoint_interval=1000,
                               validation_interval=500, summary_interval=50, num_workers=0, validation_items=8)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `x` over positions where `mask` (broadcast over trailing dims) is True."""
    while mask.dim() < x.dim():
        mask = mask.unsqueeze(-1)
    mask = mask.expand_as(x).float()
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def losses(out: dict[str, torch.Tensor], batch: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The four terms for one teacher-forced forward pass (five when the batch has teacher mels)."""
    src_mask, mel_mask = out["src_mask"], out["mel_mask"]
    frames = out["mel"].shape[1]
    log_d = torch.log1p(batch["durations"].float())
    terms = {
        "mel/loss": masked_mean((out["mel"] - batch["mel"][:, :frames]).abs(), mel_mask),
        "duration/loss": masked_mean((out["log_duration"] - log_d) ** 2, src_mask),
        "pitch/loss": masked_mean((out["pitch"] - batch["pitch"]) ** 2, src_mask),
        "energy/loss": masked_mean((out["energy"] - batch["energy"]) ** 2, src_mask),
    }
    if "teacher_mel" in batch:
        terms[DISTIL_TERM] = masked_mean((out["mel"] - batch["teacher_mel"][:, :frames]).abs(), mel_mask)
    return terms


class AcousticTask(Task):
    """Trains an `AcousticModel` on batches from `data.acoustic_dataset.collate`."""

    progress_keys = ("mel/loss", "duration/loss", "total")
    collate_fn = staticmethod(collate)

    def __init__(self, *, model: AcousticModel, train_config: TrainConfig, symbols: dict[str, Any],
                 stats: dict[str, Any], warmup_steps: int = 400, extra: dict[str, Any] | None = None,
                 media_items: int = 2) -> None:
        unknown = sorted(set(train_config.loss_weights) - {*TERMS, DISTIL_TERM})
        if unknown:
            raise ConfigError(f"loss_weights: unknown term(s) {', '.join(unknown)}; acoustic terms are "
                              f"{', '.join((*TERMS, DISTIL_TERM))}")
        self.model: torch.nn.Module = model
        self.config = train_config
        self.weights = {k: float(train_config.loss_weights.get(k, 0.0)) for k in TERMS}
        self.weights[DISTIL_TERM] = float(train_config.loss_weights.get(DISTIL_TERM, 1.0))
        self.symbols, self.stats, self.extra = symbols, stats, extra or {}
        self.warmup = max(1, warmup_steps)
        self.media_items = media_items

    def setup(self, ctx: TaskContext) -> None:
        self.model = ctx.wrap(self.model.to(ctx.device).train())
        cfg = self.config
        self.optim = torch.optim.Adam(self.model.parameters(), cfg.learning_rate, betas=(cfg.adam_b1, cfg.adam_b2),
                                      eps=1e-9)
        warm = self.warmup
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.optim, lambda s: min((s + 1) / warm, (warm / (s + 1)) ** 0.5))

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float | torch.Tensor]:
        out = self.model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                         energy=batch["energy"])
        terms = losses(out, batch)
        total = sum(self.weights[k] * v for k, v in terms.items())
        self.optim.zero_grad(set_to_none=True)
        total.backward()
        grad = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optim.step()
        lr = self.sched.get_last_lr()[0]
        self.sched.step()
        return {**{k: v.detach() for k, v in terms.items()}, "total": total.detach(), "grad/norm": grad.detach(),
                "lr": lr}

    @torch.no_grad()
    def validate(self, batches: Iterable[dict[str, Any]]) -> Validation:
        model = unwrap(self.model).eval()
        sums: dict[str, float] = {}
        count = 0
        images: dict[str, Any] = {}
        try:
            for i, batch in enumerate(batches):
                out = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                            energy=batch["energy"])
                metrics = {k: float(v) for k, v in losses(out, batch).items()}
                # reference durations, predicted pitch and energy: what the TTS benchmark's mel L1 measures
                own = model(batch["ids"], batch["src_lens"], durations=batch["durations"])
                metrics["mel/predicted_variance"] = float(losses(own, batch)["mel/loss"])
                mask = sequence_mask(batch["src_lens"], batch["ids"].shape[1])
                free = model(batch["ids"], batch["src_lens"])
                metrics["duration/abs_frames"] = float(masked_mean((free["durations"] - batch["durations"]).abs().float(), mask))
                t = min(free["mel"].shape[1], batch["mel"].shape[1])
                metrics["mel/free_l1"] = float((free["mel"][:, :t] - batch["mel"][:, :t]).abs().mean()) if t else float("nan")
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
                if i < self.media_items:
                    name = str(batch["id"][0])
                    images[f"{name}/teacher_forced"] = out["mel"][0].T.cpu().numpy()
                    images[f"{name}/predicted"] = free["mel"][0].T.cpu().numpy()
                    images[f"{name}/target"] = batch["mel"][0].T.cpu().numpy()
        finally:
            model.train()
        return Validation(metrics={k: v / max(1, count) for k, v in sums.items()}, images=images,
                          sample_rate=int(self.stats["mel"]["sample_rate"]))

    def state_dict(self) -> dict[str, Any]:
        return {"model": unwrap(self.model).state_dict(), "optim": self.optim.state_dict(),
                "sched": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        unwrap(self.model).load_state_dict(state["model"])
        self.optim.load_state_dict(state["optim"])
        self.sched.load_state_dict(state["sched"])

    def export(self, run_dir: Path, step: int) -> None:
        save_acoustic(Path(run_dir) / EXPORT_NAME, unwrap(self.model), symbols=self.symbols,
                      stats=model_stats(self.stats), mel=self.stats["mel"], extra={**self.extra, "step": step})


def model_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint keeps of the corpus statistics (not the split lists)."""
    return {k: stats[k] for k in ("pitch", "energy", "energy_log", "pitch_backend", "version") if k in stats}


def config_for_corpus(arch: AcousticConfig, stats: dict[str, Any]) -> AcousticConfig:
    """`arch` with the symbol count, mel bins and pitch/energy bucket ranges of the corpus."""
    ids = [i for v in stats["symbols"]["id_map"].values() for i in v]

    def zrange(s: dict[str, float]) -> tuple[float, float]:
        return ((s["min"] - s["mean"]) / s["std"], (s["max"] - s["mean"]) / s["std"])

    return dataclasses.replace(arch, num_symbols=max(ids) + 1, n_mels=int(stats["mel"]["n_mels"]),
                               pitch_range=zrange(stats["pitch"]),
                               energy_range=zrange(energy_stats(stats, arch.energy)))


def _fine_tune_start(init: str, stats: dict[str, Any], console) -> LoadedAcoustic:
    """The model a fine-tuning run starts from; its phoneme set must be the corpus's."""
    start = load_acoustic(init)
    check_teacher(None, start.symbols, stats, init)
    if start.mel != mel_config(stats["mel"], "corpus statistics"):
        raise DataError(f"{init}: made for other mel settings than the corpus's ({start.mel} vs {stats['mel']})")
    # statistics the model was saved without (log energy, for older models) are not a difference
    theirs = model_stats(stats)
    if any(start.stats[k] != theirs.get(k) for k in start.stats) and console is not None:
        console.print(f"{init}: trained on other pitch/energy statistics; fine-tuning re-learns them from this "
                      "corpus's", highlight=False)
    return start


def train_acoustic(
    *, data_root: str | Path, run_dir: str | Path, arch: AcousticConfig | None, train_config: TrainConfig,
    warmup_steps: int = 400, env: DistEnv | None = None, resume: bool = False, console=None,
    command: str | None = None, teacher_mels: str | Path | None = None, init: str | Path | None = None,
) -> FitResult:
    """Train an acoustic model on a prepared corpus (see `data.features.prepare_features`).

    With `resume`, `arch=None` takes the architecture from the run's config.json (and its teacher
    mels, if it had them). `teacher_mels`: a folder from `acoustic.distil.write_teacher_mels`;
    the train split then also fits the teacher's mels (`mel/distil`). `init` (with `arch=None`):
    fine-tune an acoustic model (file, run folder or shipped name) whose phoneme set is the corpus's;
    its architecture, pitch/energy buckets included, is kept.
    """
    from ..train.state import latest_checkpoint, read_run_config

    stats = read_stats(data_root)
    stored = read_run_config(Path(run_dir)) if resume else None
    start = None
    if stored:  # the architecture (and a fine-tuned run's origin) come from the run
        if arch is not None or init is not None:
            raise ConfigError("a resumed run keeps its architecture and origin; give neither arch nor init")
        cfg = AcousticConfig.from_dict(stored["model"])
        init = stored.get("init")
        if init and latest_checkpoint(Path(run_dir)) is None:  # interrupted before its first checkpoint
            start = _fine_tune_start(init, stats, console=None)
    elif init is not None:
        if arch is not None:
            raise ConfigError("fine-tuning (init) keeps the model's architecture; give no arch")
        init = str(acoustic_file(init).resolve())
        start = _fine_tune_start(init, stats, console)
        cfg = start.model.config
    elif arch is None:
        raise ConfigError("give an architecture (--arch), or --resume a run that has one")
    else:
        cfg = config_for_corpus(arch, stats)
    if stored and teacher_mels is None:
        teacher_mels = stored["data"].get("teacher_mels")
    if teacher_mels is not None:
        teacher_mels = Path(teacher_mels).resolve()
    torch.manual_seed(train_config.seed)
    model = AcousticModel.from_config(cfg)
    if start is not None:  # a checkpoint of this run, when there is one, replaces these weights
        model.load_state_dict(start.model.state_dict())
    train = AcousticDataset(data_root, "train", stats, teacher_mels=teacher_mels, energy=cfg.energy)
    val_ids = stats["splits"]["val"] or stats["splits"]["test"]
    val = AcousticDataset(data_root, "val", stats, ids=val_ids, energy=cfg.energy) if val_ids else None
    if len(train) < train_config.batch_size:
        train_config = dataclasses.replace(train_config, batch_size=len(train))
    run_config = {"task": "acoustic", "train": to_dict(train_config), "model": cfg.to_dict(),
                  "data": {"root": str(Path(data_root).resolve()),
                           **({"teacher_mels": str(teacher_mels)} if teacher_mels else {})},
                  "warmup_steps": warmup_steps, **({"init": init} if init else {})}
    task = AcousticTask(model=model, train_config=train_config, symbols=stats["symbols"], stats=stats,
                        warmup_steps=warmup_steps,
                        extra={"command": command or invocation(),
                               "params": model.num_parameters()})
    return fit(task, train_data=train, val_data=val, config=train_config, run_dir=run_dir, run_config=run_config,
               env=env, resume=resume, may_change=RESUMABLE_KEYS, console=console)
