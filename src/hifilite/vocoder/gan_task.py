"""HiFi-GAN vocoder training as a `Task`: generator + discriminators (multi-period and multi-scale by
default; `TrainConfig.discriminators.kinds` picks any of mpd, msd and the cheaper multi-resolution
spectrogram discriminator mrd).

One step, as in Kong et al. (2020): the discriminators first (LSGAN on real vs detached fake),
then the generator with

    total_G = sum(loss_weights[name] * term[name])   for name in mel/loss, adv/gen, adv/feat

where `mel/loss` is the L1 between log-mels computed with fmax = Nyquist (`MelConfig.loss_variant`)
and the adversarial and feature-matching terms sum over the discriminators. `stft/loss` (multi-resolution
STFT distance to the recording, off by default) helps students without adversarial training, such
as iSTFT-head students on a CPU budget; `stft/if` and `stft/gd` (phase-derivative errors against the
recording's STFT, see below) are computed only when weighted. Terms without a weight are still computed and logged, with
weight 0, except that the discriminators exist only when an adversarial weight is non-zero (pure
distillation and recording-only fine-tuning never build or checkpoint them) and `stft/loss` is only
computed when weighted.

Knowledge distillation is the same task with a frozen `teacher` generator and three more terms:
`distil/mel` (mel L1 to the teacher's waveform), `distil/stft` (multi-resolution STFT distance to
it) and `distil/feat` (L1 between each upsampling stage's MRF output and the teacher's, through a
learned 1x1 projection where the widths differ), and, computed only when weighted, `distil/if` and
`distil/gd` (errors of the phase's time and frequency derivatives against the teacher's STFT,
`hifilite.vocoder.phase_losses`), which train phase without discriminators. Setting a weight to 0
ablates its term. Optimisers are AdamW (official lr 2e-4, betas 0.8/0.99)
with an ExponentialLR decay per epoch.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..audio import MelSpectrogram
from ..config import DiscriminatorConfig, GeneratorConfig, MelConfig, TrainConfig, check_generator_mel
from ..errors import ConfigError
from .discriminators import MultiPeriodDiscriminator, MultiResolutionDiscriminator, MultiScaleDiscriminator
from .generator import Generator
from .losses import MelL1Loss, MultiResolutionSTFTLoss, discriminator_loss, feature_matching_loss, generator_adv_loss
from .phase_losses import GroupDelayLoss, InstantaneousFrequencyLoss
from ..train.distributed import unwrap
from ..train.loop import Task, TaskContext, Validation

TERMS = ("mel/loss", "stft/loss", "stft/if", "stft/gd", "adv/gen", "adv/feat", "distil/mel", "distil/stft",
         "distil/feat", "distil/if", "distil/gd")
DISTIL_TERMS = ("distil/mel", "distil/stft", "distil/feat", "distil/if", "distil/gd")
PHASE_TERMS = ("distil/if", "distil/gd")  # computed only when weighted
RECORDING_PHASE_TERMS = ("stft/if", "stft/gd")  # the same against the recording; only when weighted
ADV_TERMS = ("adv/gen", "adv/feat")
EXPORT_NAME = "generator.safetensors"
DISCRIMINATORS = {"mpd": MultiPeriodDiscriminator, "msd": MultiScaleDiscriminator, "mrd": MultiResolutionDiscriminator}


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Parameters stop requiring grad inside the block: the generator step backpropagates through
    the discriminators to their input without computing their (discarded) weight gradients."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _stage_projections(student: nn.Module, teacher: nn.Module, n_mels: int) -> nn.ModuleList:
    """1x1 convs from each student stage width to the teacher's (identity where they match)."""
    with torch.no_grad():
        probe = torch.zeros(1, n_mels, 2)
        _, s_feats = student(probe, return_features=True)
        _, t_feats = teacher(probe, return_features=True)
    if len(s_feats) != len(t_feats):
        raise ConfigError("feature distillation needs student and teacher with the same number of stages")
    return nn.ModuleList(
        nn.Identity() if s.shape[1] == t.shape[1] else nn.Conv1d(s.shape[1], t.shape[1], 1)
        for s, t in zip(s_feats, t_feats)
    )


def _grad_norm(params: Iterable[torch.Tensor]) -> torch.Tensor:
    """Total L2 norm of the gradients (not clipped: HiFi-GAN trains without clipping)."""
    return torch.nn.utils.clip_grad_norm_(list(params), max_norm=float("inf"))


class GanVocoderTask(Task):
    """Trains a `Generator` against the configured discriminators (MPD + MSD by default).

    Batches are dicts with `audio` (B, T) and, when training on precomputed mels, `mel`
    (B, n_mels, T // hop); otherwise the input mel is computed from the audio on the device.
    """

    progress_keys = ("mel/loss", "gen/total", "disc/total")

    def __init__(
        self,
        *,
        generator: Generator,
        gen_config: GeneratorConfig,
        mel_config: MelConfig,
        train_config: TrainConfig,
        mpd: nn.Module | None = None,
        msd: nn.Module | None = None,
        mrd: nn.Module | None = None,
        teacher: Generator | None = None,
        media_items: int = 3,
    ) -> None:
        check_generator_mel(gen_config, mel_config)
        unknown = sorted(set(train_config.loss_weights) - set(TERMS))
        if unknown:
            raise ConfigError(
                f"loss_weights: unknown term(s) {', '.join(unknown)}; GAN terms are {', '.join(TERMS)}"
            )
        needs_teacher = [k for k in DISTIL_TERMS if train_config.loss_weights.get(k, 0.0)]
        if needs_teacher and teacher is None:
            raise ConfigError(f"loss term(s) {', '.join(needs_teacher)} need a teacher (distillation)")
        self.teacher = teacher.eval().requires_grad_(False) if teacher is not None else None
        self.generator: nn.Module = generator
        self.gen_config, self.mel_config, self.train_config = gen_config, mel_config, train_config
        self.weights = {k: float(train_config.loss_weights.get(k, 0.0)) for k in TERMS}
        self.media_items = media_items
        self._targets_logged: set[str] = set()
        self.adversarial = any(self.weights[k] for k in ADV_TERMS)
        # The discriminators exist only when an adversarial term is weighted: pure distillation and
        # recording-only fine-tuning never build, wrap, optimise or checkpoint them. Modules given as
        # arguments replace the configured kinds' defaults.
        d_config: DiscriminatorConfig = train_config.discriminators
        given = {name: m for name, m in (("mpd", mpd), ("msd", msd), ("mrd", mrd)) if m is not None}
        stray = sorted(set(given) - set(d_config.kinds))
        if stray:
            raise ConfigError(f"discriminator(s) {', '.join(stray)} given but not in discriminators.kinds "
                              f"({', '.join(d_config.kinds)})")
        self.discriminators: dict[str, nn.Module] = {}
        if self.adversarial:
            self.discriminators = {name: given.get(name) or DISCRIMINATORS[name].from_config(d_config)
                                   for name in d_config.kinds}
        self.projections = nn.ModuleList()
        if self.teacher is not None and self.weights["distil/feat"]:
            self.projections = _stage_projections(generator, self.teacher, gen_config.in_channels)

    def setup(self, ctx: TaskContext) -> None:
        dev, cfg = ctx.device, self.train_config
        self.mel_input = MelSpectrogram.from_config(self.mel_config).to(dev)
        self.mel_loss = MelL1Loss(MelSpectrogram.from_config(self.mel_config.loss_variant())).to(dev)
        self.generator = ctx.wrap(self.generator.to(dev).train())
        self.discriminators = {name: ctx.wrap(d.to(dev).train()) for name, d in self.discriminators.items()}
        betas = (cfg.adam_b1, cfg.adam_b2)
        if self.teacher is not None:
            self.teacher = self.teacher.to(dev)
        self.mrstft = MultiResolutionSTFTLoss().to(dev)
        if_loss, gd_loss = InstantaneousFrequencyLoss().to(dev), GroupDelayLoss().to(dev)
        self.phase_losses = {"distil/if": if_loss, "distil/gd": gd_loss, "stft/if": if_loss, "stft/gd": gd_loss}
        self.projections = ctx.wrap(self.projections.to(dev)) if len(self.projections) else self.projections
        self.optim_g = torch.optim.AdamW(
            itertools.chain(self.generator.parameters(), self.projections.parameters()), cfg.learning_rate, betas=betas
        )
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.optim_g, gamma=cfg.lr_decay)
        self.optim_d = self.sched_d = None
        if self.adversarial:
            self.optim_d = torch.optim.AdamW(self._disc_params(), cfg.learning_rate, betas=betas)
            self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.optim_d, gamma=cfg.lr_decay)

    @property
    def mpd(self) -> nn.Module | None:
        return self.discriminators.get("mpd")

    @property
    def msd(self) -> nn.Module | None:
        return self.discriminators.get("msd")

    @property
    def mrd(self) -> nn.Module | None:
        return self.discriminators.get("mrd")

    def _disc_params(self) -> Iterator[torch.Tensor]:
        """The discriminators' parameters in the optimiser's order (MSD's before MPD's, as checkpoints of
        HiFi-GAN runs hold them)."""
        order = sorted(self.discriminators, key=("msd", "mpd", "mrd").index)
        return itertools.chain.from_iterable(self.discriminators[name].parameters() for name in order)

    def _input_mel(self, batch: dict[str, Any]) -> torch.Tensor:
        if "mel" in batch:
            return batch["mel"]
        with torch.no_grad():
            return self.mel_input(batch["audio"])

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float | torch.Tensor]:
        y = batch["audio"].unsqueeze(1)  # (B, 1, T)
        mel = self._input_mel(batch)
        want_feats = bool(len(self.projections))
        y_hat, feats = self.generator(mel, return_features=True) if want_feats else (self.generator(mel), [])
        if y_hat.shape[-1] != y.shape[-1]:
            raise ValueError(f"generator output {tuple(y_hat.shape)} does not match audio {tuple(y.shape)}")

        out: dict[str, float | torch.Tensor] = {}
        if self.adversarial:  # discriminators: real vs detached fake
            self.optim_d.zero_grad(set_to_none=True)
            losses_d = {}
            for name, d in self.discriminators.items():
                real, fake, _, _ = d(y, y_hat.detach())
                losses_d[name] = discriminator_loss(real, fake)
            loss_d = sum(losses_d.values())
            loss_d.backward()
            grad_d = _grad_norm(self._disc_params())
            self.optim_d.step()
            out.update({f"disc/{name}": v.detach() for name, v in losses_d.items()})
            out.update({"disc/total": loss_d.detach(), "grad/disc": grad_d.detach(),
                        "lr/disc": self.sched_d.get_last_lr()[0]})

        # Generator: the discriminators are called unwrapped and frozen, so no DDP reduction or
        # weight gradients are spent on them here.
        self.optim_g.zero_grad(set_to_none=True)
        terms = {"mel/loss": self.mel_loss(y_hat, y)}
        if self.weights["stft/loss"]:
            terms["stft/loss"] = self.mrstft(y_hat, y)
        for name in RECORDING_PHASE_TERMS:
            if self.weights[name]:
                terms[name] = self.phase_losses[name](y_hat, y)
        if self.teacher is not None and any(self.weights.get(k) for k in DISTIL_TERMS):  # else the teacher is idle
            with torch.no_grad():
                if "teacher" in batch and not want_feats:  # cached teacher output (vocoder.teacher_cache)
                    t_hat, t_feats = batch["teacher"].unsqueeze(1), []
                else:
                    t_hat, t_feats = self.teacher(mel, return_features=True)
            terms["distil/mel"] = self.mel_loss(y_hat, t_hat)
            terms["distil/stft"] = self.mrstft(y_hat, t_hat)
            for name in PHASE_TERMS:
                if self.weights[name]:
                    terms[name] = self.phase_losses[name](y_hat, t_hat)
            if want_feats:
                terms["distil/feat"] = sum(F.l1_loss(p(f), t) for p, f, t in zip(unwrap(self.projections), feats, t_feats))
        discriminators = [unwrap(d) for d in self.discriminators.values()]
        with frozen(*discriminators):
            if self.adversarial:
                adv_gen, adv_feat = [], []
                for d in discriminators:
                    _, fake, f_real, f_fake = d(y, y_hat)
                    adv_gen.append(generator_adv_loss(fake))
                    adv_feat.append(feature_matching_loss(f_real, f_fake))
                terms["adv/gen"], terms["adv/feat"] = sum(adv_gen), sum(adv_feat)
            total = sum(self.weights[k] * v for k, v in terms.items())
            total.backward()
        grad_g = _grad_norm(self.generator.parameters())
        self.optim_g.step()
        out.update({k: v.detach() for k, v in terms.items()})
        out.update({"gen/total": total.detach(), "grad/gen": grad_g.detach(), "lr/gen": self.sched_g.get_last_lr()[0]})
        return out

    def on_epoch_end(self, epoch: int) -> None:
        self.sched_g.step()
        if self.adversarial:  # the discriminators' optimiser only steps when they train
            self.sched_d.step()

    @torch.no_grad()
    def validate(self, batches: Iterable[dict[str, Any]]) -> Validation:
        """Whole utterances (batch size 1): mel L1 with the loss mel, plus audio and spectrograms
        of the first `media_items` (targets only the first time they are logged)."""
        gen = unwrap(self.generator).eval()
        total, count = 0.0, 0
        audio: dict[str, torch.Tensor] = {}
        images: dict[str, Any] = {}
        try:
            for i, batch in enumerate(batches):
                y = batch["audio"]  # (1, T)
                mel = self._input_mel(batch)
                y_hat = gen(mel).squeeze(1)[..., : y.shape[-1]]
                total += float(F.l1_loss(self.mel_loss.mel(y_hat), self.mel_loss.mel(y)))
                count += 1
                if i < self.media_items:
                    name = str(batch["id"][0])
                    audio[f"{name}/generated"] = y_hat[0]
                    images[f"{name}/generated"] = self.mel_input(y_hat)[0].cpu().numpy()
                    if name not in self._targets_logged:
                        self._targets_logged.add(name)
                        audio[f"{name}/target"] = y[0]
                        images[f"{name}/input"] = mel[0].cpu().numpy()
        finally:
            gen.train()
        metrics = {"mel/loss": total / count} if count else {}
        return Validation(metrics=metrics, audio=audio, images=images, sample_rate=self.mel_config.sample_rate)

    def state_dict(self) -> dict[str, Any]:
        state = {
            "generator": unwrap(self.generator).state_dict(),
            "projections": unwrap(self.projections).state_dict(),
            "optim_g": self.optim_g.state_dict(),
            "sched_g": self.sched_g.state_dict(),
        }
        if self.adversarial:
            state.update({name: unwrap(d).state_dict() for name, d in self.discriminators.items()})
            state.update({"optim_d": self.optim_d.state_dict(), "sched_d": self.sched_d.state_dict()})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint. Discriminator state is restored when this run trains them; a
        checkpoint without it (written by a non-adversarial run) cannot resume an adversarial one."""
        unwrap(self.generator).load_state_dict(state["generator"])
        unwrap(self.projections).load_state_dict(state["projections"])
        self.optim_g.load_state_dict(state["optim_g"])
        self.sched_g.load_state_dict(state["sched_g"])
        if self.adversarial:
            missing = [name for name in self.discriminators if name not in state]
            if len(missing) == len(self.discriminators):
                raise ConfigError("this checkpoint has no discriminators (its run had no adversarial weight); "
                                  "start adversarial training from its generator with --init instead")
            if missing:
                raise ConfigError(f"this checkpoint has no {', '.join(missing)} discriminator (its run trained "
                                  f"{', '.join(k for k in DISCRIMINATORS if k in state)}); keep the run's "
                                  "discriminators.kinds, or start a new run from its generator with --init")
            for name, d in self.discriminators.items():
                unwrap(d).load_state_dict(state[name])
            self.optim_d.load_state_dict(state["optim_d"])
            self.sched_d.load_state_dict(state["sched_d"])

    def export(self, run_dir: Path, step: int) -> None:
        """`run_dir/generator.safetensors`, loadable by `hifilite vocode --model` (weight norm kept,
        so it can also seed another fine-tuning run)."""
        from .checkpoint import save_generator

        save_generator(Path(run_dir) / EXPORT_NAME, unwrap(self.generator), self.gen_config,
                       self.mel_config, extra={"step": step, "task": "gan"})
