"""Training the prior family: a regression of the recording's STFT magnitude from its mel.

No teacher and no discriminator: the target of a clip is its own Gaussian-window STFT magnitude (the
window the phase reconstruction assumes), so any recording, augmented any way, is a training pair,
and a step is one small frame-rate network's forward and backward. Features are computed once per
clip and augmented version (`FeatureBank`, cached on disk under the run folder), so a step reads
arrays from memory; a training item is a random crop with a random level, a pure function of
(index, epoch) so a resumed run sees what the uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..config import MelConfig, PriorConfig, TrainConfig, to_dict
from ..data.augment import Augment, AugmentConfig
from ..data.dataset import item_rng
from ..errors import ConfigError, DataError
from ..train.loop import RESUMABLE_KEYS, Task, TaskContext, Validation
from ..train.distributed import unwrap
from ..runtime.pghi import reconstruct
from ..runtime.stft import stft_magnitude
from .prior import LOG_FLOOR, PriorGenerator

EXPORT_NAME = "generator.safetensors"
PEAK = 0.9  # clips are peak-normalised before features (levels come back through the random gain)


def clip_features(wav: np.ndarray, mel_fn, config: PriorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(log-mel (n_mels, T), target log-magnitude (bins, T)) of one clip as float16, frame t of both
    centred at t * hop + hop / 2."""
    with torch.inference_mode():
        mel = mel_fn(torch.from_numpy(wav[None]))[0].numpy()
    mag = stft_magnitude(wav, config.n_fft, config.hop_length)
    frames = min(mel.shape[-1], mag.shape[-1])
    # float16 (about 0.004 of a log unit): a many-version feature bank of hours of audio fits in memory
    return mel[:, :frames].astype(np.float16), np.log(np.maximum(mag[:, :frames], math.exp(LOG_FLOOR))).astype(np.float16)


class FeatureBank(Dataset):
    """Crops of (mel, target) from clips x augmented versions, keyed by (index, epoch).

    Version 0 of a clip is the recording; versions 1.. are `Augment` draws (speed, pitch, formant,
    tilt, gain, noise) seeded by (seed, version, clip). Each item is `frames` frames at a random
    position with a random level change of `gain_db` (applied to both log-spectra and re-clamped,
    which is exact for attenuation), so the network sees every level.
    """

    def __init__(self, features: Sequence[tuple[np.ndarray, np.ndarray]], frames: int = 64, seed: int = 0,
                 gain_db: tuple[float, float] = (-24.0, 0.0), random: bool = True) -> None:
        if not features:
            raise DataError("no training clips")
        self.features, self.frames, self.seed, self.gain_db, self.random = list(features), frames, seed, gain_db, random

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, key):
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        mel, tgt = self.features[index]
        mel, tgt = mel.astype(np.float32), tgt.astype(np.float32)
        rng = item_rng(self.seed, index, epoch)
        n = mel.shape[-1]
        if n < self.frames:
            pad = self.frames - n
            mel = np.pad(mel, ((0, 0), (0, pad)), constant_values=math.log(1e-5))
            tgt = np.pad(tgt, ((0, 0), (0, pad)), constant_values=LOG_FLOOR)
            n = self.frames
        if not self.random:
            return {"mel": torch.from_numpy(mel), "target": torch.from_numpy(tgt)}
        start = int(rng.integers(0, n - self.frames + 1))
        shift = float(rng.uniform(*self.gain_db)) * math.log(10.0) / 20.0
        mel = np.maximum(mel[:, start:start + self.frames] + shift, math.log(1e-5))
        tgt = np.maximum(tgt[:, start:start + self.frames] + shift, LOG_FLOOR)
        return {"mel": torch.from_numpy(np.ascontiguousarray(mel)), "target": torch.from_numpy(np.ascontiguousarray(tgt))}


def _save_npz(file: Path, **arrays: np.ndarray) -> None:
    """A feature-cache entry, written whole or not at all."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(file)


def build_features(wav_paths: Sequence[Path], config: PriorConfig, versions: int, seed: int,
                   cache: Path | None, progress=None,
                   augment_config: AugmentConfig | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Features of every clip and version (cached as one .npz per clip under `cache`); the augmented
    versions are drawn with `augment_config` (default `AugmentConfig()`)."""
    from ..audio import MelSpectrogram, load_audio

    mel_fn = MelSpectrogram.from_config(MelConfig())
    augment_config = augment_config or AugmentConfig()
    augment = Augment(augment_config, seed=seed, sample_rate=config.sample_rate)  # checks the config
    # another augmentation is another cache entry (the default keeps the key of earlier runs' caches)
    augment_key = "" if augment_config == AugmentConfig() or versions == 1 else f"|{augment_config}"
    out = []
    for i, path in enumerate(wav_paths):
        front = (config.sample_rate, config.n_fft, config.hop_length, config.in_channels, config.fmin, config.fmax)
        key = hashlib.sha1(f"{Path(path).resolve()}|{versions}|{seed}|{front}|f16{augment_key}".encode()).hexdigest()[:16]
        file = cache / f"{key}.npz" if cache else None
        if file is not None and file.is_file():
            with np.load(file) as z:
                out.extend((z[f"mel{v}"], z[f"tgt{v}"]) for v in range(versions))
        else:
            wav, _ = load_audio(path, config.sample_rate)
            wav = (wav / max(1e-4, float(np.abs(wav).max())) * PEAK).astype(np.float32)
            feats = []
            for v in range(versions):
                x = wav if v == 0 else augment.item(wav, v, i)[0]
                feats.append(clip_features(x, mel_fn, config))
            if file is not None:
                _save_npz(file, **{f"{k}{v}": a for v, pair in enumerate(feats) for k, a in zip(("mel", "tgt"), pair)})
            out.extend(feats)
        if progress is not None:
            progress(i + 1, len(wav_paths))
    return out


def npy_features(wav_paths: Sequence[Path], config: PriorConfig, cache: Path | None,
                 progress=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(acoustic-model mel at `wavs/<id>.npy`, target log-magnitude of the recording) of every clip,
    as float16 (cached beside `build_features`' files, keyed by the .npy's size and time). The audio
    keeps its level, the one the acoustic model's mel describes; the mel must lie over the audio
    (teacher-forced: `hifilite acoustic vocoder-mels`)."""
    from ..audio import load_audio
    from ..data.dataset import check_mel_over_audio, load_mel, mel_path

    out = []
    for i, path in enumerate(wav_paths):
        npy = mel_path(SimpleNamespace(wav_path=path))
        if not npy.is_file():
            raise DataError(f"{npy}: mel of {Path(path).name} not found (--mels npy; write them with "
                            "`hifilite acoustic vocoder-mels`)")
        st = npy.stat()
        front = (config.sample_rate, config.n_fft, config.hop_length, config.in_channels)
        key = hashlib.sha1(f"{npy.resolve()}|{st.st_size}|{st.st_mtime_ns}|{front}|npy".encode()).hexdigest()[:16]
        file = cache / f"{key}.npz" if cache else None
        if file is not None and file.is_file():
            with np.load(file) as z:
                out.append((z["mel"], z["tgt"]))
        else:
            mel = load_mel(npy, config.in_channels)
            wav, _ = load_audio(path, config.sample_rate)
            check_mel_over_audio(mel.shape[-1], len(wav) / config.hop_length, npy)
            mag = stft_magnitude(wav, config.n_fft, config.hop_length)
            frames = min(mel.shape[-1], mag.shape[-1])
            pair = (mel[:, :frames].astype(np.float16),
                    np.log(np.maximum(mag[:, :frames], math.exp(LOG_FLOOR))).astype(np.float16))
            if file is not None:
                _save_npz(file, mel=pair[0], tgt=pair[1])
            out.append(pair)
        if progress is not None:
            progress(i + 1, len(wav_paths))
    return out


def magnitude_losses(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """The two regression terms on log-magnitudes (B, bins, T), named as in `PRIOR_WEIGHTS`."""
    p, t = torch.exp(pred), torch.exp(target)
    return {"mag/compressed": F.l1_loss(p.pow(0.3), t.pow(0.3)),
            "mag/log": F.l1_loss(torch.log(p + 1e-3), torch.log(t + 1e-3))}


class PriorTask(Task):
    """Regression of log-magnitudes; AdamW with linear warm-up and linear decay to 5 %."""

    progress_keys = ("loss",)

    def __init__(self, generator: PriorGenerator, config: PriorConfig, train: TrainConfig,
                 weights: dict[str, float], media_items: int = 2) -> None:
        unknown = sorted(set(weights) - {"mag/compressed", "mag/log"})
        if unknown:
            raise ConfigError(f"unknown loss weight(s) for the prior family: {', '.join(unknown)}")
        self.generator, self.config, self.train, self.weights = generator, config, train, weights
        self.media_items = media_items

    def setup(self, ctx: TaskContext) -> None:
        self.device = ctx.device
        self.generator = ctx.wrap(self.generator.to(ctx.device).train())
        self.opt = torch.optim.AdamW(self.generator.parameters(), lr=self.train.learning_rate, weight_decay=0.01)
        total, warm = self.train.max_steps, 200
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1.0 - s / max(1, total)))

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, Any]:
        pred = self.generator(batch["mel"])
        terms = magnitude_losses(pred, batch["target"])
        loss = sum(self.weights.get(k, 0.0) * v for k, v in terms.items())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad = torch.nn.utils.clip_grad_norm_(self.generator.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        return {"loss": loss.detach(), **{k: v.detach() for k, v in terms.items()},
                "grad/norm": grad.detach(), "lr": self.sched.get_last_lr()[0]}

    @torch.no_grad()
    def validate(self, batches: Iterable[dict[str, torch.Tensor]]) -> Validation:
        """Whole clips: the losses of the network and of the floor (its prior alone), and for the
        first clips the reconstructed audio (PGHI) and log-magnitude pictures."""
        gen = unwrap(self.generator).eval()
        sums: dict[str, float] = {}
        audio, images, count = {}, {}, 0
        try:
            for i, batch in enumerate(batches):
                mel, tgt = batch["mel"], batch["target"]
                pred, floor = gen(mel), gen.prior(mel)
                for name, value in magnitude_losses(pred, tgt).items():
                    sums[name] = sums.get(name, 0.0) + float(value)
                for name, value in magnitude_losses(floor, tgt).items():
                    sums[f"floor/{name}"] = sums.get(f"floor/{name}", 0.0) + float(value)
                count += 1
                if i < self.media_items:
                    mag = torch.exp(pred[0]).cpu().double().numpy()
                    audio[f"clip{i}/pghi"] = torch.from_numpy(reconstruct(mag, self.config.n_fft, self.config.hop_length,
                                                                          self.config.phase_hop))
                    images[f"clip{i}/predicted"] = pred[0].cpu().numpy()
                    images[f"clip{i}/target"] = tgt[0].cpu().numpy()
        finally:
            gen.train()
        metrics = {k: v / count for k, v in sums.items()} if count else {}
        return Validation(metrics=metrics, audio=audio, images=images, sample_rate=self.config.sample_rate)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": unwrap(self.generator).state_dict(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        unwrap(self.generator).load_state_dict(state["generator"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])

    def export(self, run_dir: Path, step: int) -> None:
        from .checkpoint import save_generator

        save_generator(Path(run_dir) / EXPORT_NAME, unwrap(self.generator), self.config, MelConfig(),
                       extra={"step": step, "task": "prior"})


def training_clips(roots: Sequence[str | Path], split: str) -> list[Path]:
    """Audio files of one split of every corpus (its splits.json, or the reader's split)."""
    from ..data.corpora import load_split

    out: list[Path] = []
    for root in roots:
        out.extend(Path(u.wav_path) for u in load_split(root, split))
    return out


def train_prior(*, data_roots: Sequence[str | Path], run_dir: str | Path, gen_config: PriorConfig,
                train_config: TrainConfig, init: str | None = None, versions: int = 3, env=None,
                resume: bool = False, console=None, command: str = "", mel_source: str = "wav",
                augment: AugmentConfig | None = None):
    """Train (or fine-tune from `init`) a prior-family generator on the train splits of `data_roots`;
    `augment` sets the augmented versions' transforms (default `AugmentConfig()`).

    `mel_source="npy"` (or "mixed", the same here) adds to every clip's `versions` (mels of the
    audio) a pair whose input is the acoustic model's mel at `wavs/<id>.npy`, and validates on
    those: a vocoder for text-to-speech."""
    from rich.progress import Progress

    from ..data.dataset import MEL_SOURCES
    from ..train.loop import fit

    if mel_source not in MEL_SOURCES:
        raise ConfigError(f"mel source must be one of {', '.join(MEL_SOURCES)}, got {mel_source!r}")
    if gen_config.channels == 0:
        raise ConfigError("a prior config with channels 0 is the zero-parameter floor: nothing to train")
    run_dir = Path(run_dir)
    torch.manual_seed(train_config.seed)
    gen = PriorGenerator.from_config(gen_config)
    if init:
        from .checkpoint import load_generator

        loaded, cfg, _, _ = load_generator(init)
        if cfg != gen_config:
            raise ConfigError(f"--init {init} is a different architecture than the requested generator")
        gen.load_state_dict(loaded.state_dict())
    train_files = training_clips(data_roots, "train")
    val_files = training_clips(data_roots, "val")[:max(1, train_config.validation_items)]
    with Progress(console=console, transient=True) as bar:
        job = bar.add_task("features", total=len(train_files) + len(val_files))
        tick = lambda done, total: bar.update(job, advance=1)  # noqa: E731
        cache = run_dir / "features"
        if mel_source in ("npy", "mixed"):  # the audio versions are always in the bank
            bar.update(job, total=2 * len(train_files) + len(val_files))
            train_feats = npy_features(train_files, gen_config, cache, tick)
            val_feats = npy_features(val_files, gen_config, cache, tick)
            train_feats += build_features(train_files, gen_config, versions, train_config.seed, cache, tick, augment)
        else:
            train_feats = build_features(train_files, gen_config, versions, train_config.seed, cache, tick, augment)
            val_feats = build_features(val_files, gen_config, 1, train_config.seed, cache, tick)
    frames = max(8, train_config.segment_size // gen_config.hop_length)
    train_data = FeatureBank(train_feats, frames=frames, seed=train_config.seed)
    val_data = FeatureBank(val_feats, random=False)
    weights = {k: v for k, v in train_config.loss_weights.items() if k.startswith("mag/")}
    task = PriorTask(gen, gen_config, train_config, weights)
    run_config = {"train": to_dict(train_config), "generator": to_dict(gen_config), "task": "prior",
                  "data": {"roots": [str(r) for r in data_roots], "versions": versions, "mels": mel_source,
                           "train_clips": len(train_files),
                           **({"augment": to_dict(augment)} if augment is not None else {})},
                  "init": init, "command": command}
    return fit(task, train_data=train_data, val_data=val_data, config=train_config, run_dir=run_dir,
               run_config=run_config, env=env, resume=resume, may_change=(*RESUMABLE_KEYS, "command"),
               console=console)


__all__ = ["PriorTask", "FeatureBank", "train_prior", "magnitude_losses", "clip_features", "build_features", "npy_features"]
