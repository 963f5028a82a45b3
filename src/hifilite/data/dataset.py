"""Torch datasets for GAN vocoder training, and the resumable sampler the training loop uses.

Training items are random `segment_size`-sample windows of each utterance (zero-padded when the
clip is shorter); validation items are whole utterances. With `mel_source="npy"` the generator
input is an acoustic model's mel stored beside the wav (`wavs/<id>.npy`, shape (n_mels, frames)),
and the audio window is cut at the same place (`frame * hop`): the paper's fine-tuning on predicted
mels, where the target audio must stay aligned with the mel segment.

Training keys are `(index, epoch)` tuples from `EpochSampler`: an item's random window is a pure
function of (seed, epoch, index), so it does not depend on the number of workers or ranks, and a
resumed run sees exactly the windows the uninterrupted run would have seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..audio import check_audio, check_log_mel_range, load_audio
from ..config import MelConfig
from ..errors import AudioError, ConfigError, DataError

MEL_SOURCES = ("wav", "npy", "mixed")
SILENCE_LOG_MEL = float(np.log(1e-5))  # the front-end's floor: what a silent frame looks like


class UtteranceLike(Protocol):
    id: str
    wav_path: Path


def item_rng(seed: int, index: int, epoch: int) -> np.random.Generator:
    """The random generator of one training item in one epoch."""
    return np.random.default_rng([seed, epoch, index])


def mel_path(utt: UtteranceLike) -> Path:
    """Where an utterance's precomputed mel lives: `wavs/<id>.npy` beside `wavs/<id>.wav`."""
    return Path(utt.wav_path).with_suffix(".npy")


def load_mel(path: Path, n_mels: int) -> np.ndarray:
    """A (n_mels, frames) float32 mel from `.npy`; DataError naming the file if it is unusable."""
    try:
        mel = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{path}: cannot read .npy mel ({exc})") from None
    if not isinstance(mel, np.ndarray):  # an .npz archive opens as a mapping of arrays
        getattr(mel, "close", lambda: None)()
        raise DataError(f"{path}: not a single .npy array")
    if mel.dtype.kind not in "fiub":  # complex, text, structured: no mel
        raise DataError(f"{path}: a mel holds real numbers, not {mel.dtype}")
    if mel.ndim == 3 and mel.shape[0] == 1:
        mel = mel[0]
    if mel.ndim != 2 or mel.shape[0] != n_mels or mel.shape[1] == 0:
        raise DataError(f"{path}: expected a mel of shape ({n_mels}, frames), got {mel.shape}")
    with np.errstate(over="ignore"):
        mel = np.ascontiguousarray(mel, dtype=np.float32)
    if not np.isfinite(mel).all():  # after the cast: float64 beyond float32's range becomes inf
        raise DataError(f"{path}: mel contains NaN or infinite values")
    check_log_mel_range(mel, f"{path}: mel")
    return mel


def check_mel_over_audio(mel_frames: int, audio_hops: float, path: Path) -> None:
    """DataError unless a precomputed mel of `mel_frames` frames lies over audio of `audio_hops` hops
    (within 2 frames + 2 %): a mel that clearly belongs to other audio."""
    if abs(audio_hops - mel_frames) > 2 + 0.02 * mel_frames:
        raise DataError(
            f"{path}: mel has {mel_frames} frames but the audio has {audio_hops:.0f} hops; fine-tuning "
            "needs mels aligned to the audio (teacher-forced / ground-truth durations)"
        )


class VocoderDataset(Dataset):
    """Items are dicts: `audio` (T,) float32, `mel` (n_mels, T // hop) with `mel_source="npy"`,
    and `id`. T = `segment_size` for training, the utterance length cut to whole hops otherwise.

    `mel_source="mixed"` trains on both inputs: each training item's mel is, by a fair coin of its
    (index, epoch), the `.npy` mel or the mel of its own audio window (same front-end as the
    recipe's); whole utterances (validation) take the `.npy` mel. A vocoder for text-to-speech that
    still vocodes recordings.

    `normalize` (default: on for wav, off for npy, as in the official recipe) scales each clip to
    a peak of 0.95; it stays off for npy mels because they were predicted for the raw audio.
    """

    def __init__(
        self,
        utterances: Sequence[UtteranceLike],
        *,
        mel: MelConfig,
        segment_size: int | None,
        mel_source: str = "wav",
        normalize: bool | None = None,
        seed: int = 0,
        teacher_cache: str | Path | None = None,
    ) -> None:
        if mel_source not in MEL_SOURCES:
            raise ConfigError(f"mel source must be one of {', '.join(MEL_SOURCES)}, got {mel_source!r}")
        if segment_size is not None and (segment_size <= 0 or segment_size % mel.hop_length):
            raise ConfigError(f"segment_size {segment_size} must be a positive multiple of hop {mel.hop_length}")
        if not utterances:
            raise DataError("no utterances to train or validate on")
        self.utterances = list(utterances)
        self.mel = mel
        self.hop = mel.hop_length
        self.segment_size = segment_size
        self.mel_source = mel_source
        self.normalize = (mel_source == "wav") if normalize is None else normalize
        self._mel_fn = None
        self.seed = seed
        self.teacher_cache = Path(teacher_cache) if teacher_cache is not None else None
        if self.teacher_cache is not None and mel_source != "wav":
            raise ConfigError("a teacher cache holds the mels of the recordings: use it with mel_source='wav'")
        self._check_files()

    def _check_files(self) -> None:
        """Fail before training starts if a file is missing, an audio file cannot be read
        (`check_audio`: headers only, so corpora of every layout are checked in seconds) or a mel
        has the wrong shape (reads .npy headers only; NaN values are found when the item is loaded).
        Unreadable audio is an error that counts and names them, never a silent skip."""
        unreadable: list[str] = []
        for utt in self.utterances:
            if not Path(utt.wav_path).is_file():
                raise DataError(f"{utt.wav_path}: audio file of utterance {utt.id!r} not found")
            try:
                check_audio(utt.wav_path)
            except AudioError as exc:
                unreadable.append(str(exc))
            if self.teacher_cache is not None:
                for path in teacher_cache_files(self.teacher_cache, utt.id):
                    if not path.is_file():
                        raise DataError(f"{path}: teacher output of utterance {utt.id!r} not cached")
            if self.mel_source != "wav":
                path = mel_path(utt)
                if not path.is_file():
                    raise DataError(f"{path}: mel of utterance {utt.id!r} not found (--mels {self.mel_source}; "
                                    "`hifilite acoustic vocoder-mels` writes them)")
                try:
                    shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
                except Exception as exc:
                    raise DataError(f"{path}: cannot read .npy mel ({exc})") from None
                if len(shape) not in (2, 3) or shape[-2] != self.mel.n_mels:
                    raise DataError(f"{path}: expected a mel of shape ({self.mel.n_mels}, frames), got {shape}")
        if unreadable:
            raise DataError(f"{len(unreadable)} of {len(self.utterances)} audio file(s) cannot be read; first: "
                            f"{unreadable[0]} (fix or remove them; `hifilite corpus info` counts them)")

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, object]:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        utt = self.utterances[index]
        audio, _ = load_audio(utt.wav_path, self.mel.sample_rate)
        if self.normalize:
            audio = peak_normalise(audio)
        if self.teacher_cache is not None:  # frame-aligned windows of mel, recording and teacher output
            mel_file, teacher_file = teacher_cache_files(self.teacher_cache, utt.id)
            mel = load_mel(mel_file, self.mel.n_mels)
            teacher = np.load(teacher_file, allow_pickle=False).astype(np.float32)
            audio = _fit(audio, mel.shape[1] * self.hop)
            both = np.stack([audio, _fit(teacher, len(audio))])
            mel, both = self._mel_window(mel, both, item_rng(self.seed, index, epoch))
            return {"id": utt.id, "audio": torch.from_numpy(both[0].copy()), "mel": torch.from_numpy(mel),
                    "teacher": torch.from_numpy(both[1].copy())}
        if self.mel_source != "wav":
            rng = item_rng(self.seed, index, epoch)
            mel = load_mel(mel_path(utt), self.mel.n_mels)
            audio = self._align(audio, mel.shape[1], mel_path(utt))
            mel, audio = self._mel_window(mel, audio, rng)
            if self.mel_source == "mixed" and self.segment_size is not None and rng.random() < 0.5:
                mel = self._audio_mel(audio)
            return {"id": utt.id, "audio": torch.from_numpy(audio), "mel": torch.from_numpy(mel)}
        audio = self._audio_window(audio, item_rng(self.seed, index, epoch))
        return {"id": utt.id, "audio": torch.from_numpy(audio)}

    def _audio_mel(self, audio: np.ndarray) -> np.ndarray:
        """The front-end's (n_mels, len(audio) // hop) mel of an audio window."""
        if self._mel_fn is None:
            from ..audio import MelSpectrogram

            self._mel_fn = MelSpectrogram.from_config(self.mel)
        with torch.no_grad():
            return self._mel_fn(torch.from_numpy(audio)[None])[0].numpy()

    def _audio_window(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.segment_size is None:  # whole utterance, cut (or padded) to whole hops
            frames = max(1, len(audio) // self.hop)
            return _fit(audio, frames * self.hop)
        if len(audio) >= self.segment_size:
            start = int(rng.integers(0, len(audio) - self.segment_size + 1))
            return np.ascontiguousarray(audio[start:start + self.segment_size])
        return _fit(audio, self.segment_size)

    def _align(self, audio: np.ndarray, frames: int, path: Path) -> np.ndarray:
        """Audio of exactly frames * hop samples; an error if the mel clearly belongs elsewhere."""
        check_mel_over_audio(frames, len(audio) / self.hop, path)
        return _fit(audio, frames * self.hop)

    def _mel_window(
        self, mel: np.ndarray, audio: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.segment_size is None:
            return mel, audio
        seg_frames = self.segment_size // self.hop
        frames = mel.shape[1]
        if frames >= seg_frames:
            f0 = int(rng.integers(0, frames - seg_frames + 1))
            mel = mel[:, f0:f0 + seg_frames]
            audio = audio[..., f0 * self.hop:(f0 + seg_frames) * self.hop]
            return np.ascontiguousarray(mel), np.ascontiguousarray(audio)
        pad = np.full((mel.shape[0], seg_frames - frames), SILENCE_LOG_MEL, dtype=np.float32)
        return np.concatenate([mel, pad], axis=1), _fit(audio, self.segment_size)


def peak_normalise(audio: np.ndarray) -> np.ndarray:
    """The training recipe's clip scaling (peak 0.95); silent clips are left as they are."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return audio * (0.95 / peak) if peak > 0 else audio


def teacher_cache_files(cache: Path, utt_id: str) -> tuple[Path, Path]:
    """An utterance's cached input mel and teacher waveform (see `hifilite.vocoder.teacher_cache`)."""
    return cache / f"{utt_id}.mel.npy", cache / f"{utt_id}.teacher.npy"


def _fit(audio: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad (at the end of the last axis) to exactly `length` samples."""
    n = audio.shape[-1]
    if n >= length:
        return np.ascontiguousarray(audio[..., :length], dtype=np.float32)
    pad = [(0, 0)] * (audio.ndim - 1) + [(0, length - n)]
    return np.pad(audio, pad).astype(np.float32)


class EpochSampler(Sampler):
    """Shuffled training keys `(index, epoch)` for this rank, resumable mid-epoch.

    Like `DistributedSampler(shuffle=True, drop_last=True)`: the permutation depends only on
    seed + epoch, is cut to a whole number of global batches (every rank gets the same number of
    full batches), and rank r takes every world_size-th index. `set_epoch(e, start_batch=b)` skips
    the first b batches, which is how a resumed run continues in the middle of an epoch.
    """

    def __init__(self, num_items: int, *, batch_size: int, rank: int = 0, world_size: int = 1, seed: int = 0):
        self.num_items = num_items
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.epoch = 0
        self.start_batch = 0
        if self.batches_per_epoch == 0:
            raise DataError(
                f"{num_items} training utterance(s) are fewer than batch_size {batch_size} x "
                f"{world_size} process(es); add data or lower --batch-size"
            )

    @property
    def batches_per_epoch(self) -> int:
        return self.num_items // (self.batch_size * self.world_size)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch = epoch
        self.start_batch = start_batch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_items, generator=g)
        order = order[: self.batches_per_epoch * self.batch_size * self.world_size]
        mine = order[self.rank::self.world_size][self.start_batch * self.batch_size:]
        return iter([(int(i), self.epoch) for i in mine])

    def __len__(self) -> int:
        return max(0, self.batches_per_epoch - self.start_batch) * self.batch_size
