"""Acoustic-model data: per-utterance phoneme ids, durations, mels, pitch and energy, cached on disk.

`prepare_features(corpus)` writes, for an LJSpeech-layout corpus,

    <corpus>/acoustic/features/<id>.npz   ids (N,) int64, durations (N,) int64, mel (80, T) float32,
                                          pitch (N,) float32 (phoneme-level mean log-F0),
                                          energy (N,) float32 (phoneme-level mean frame L2 norm)
    <corpus>/acoustic/stats.json          normalisation statistics over the train split, the
                                          symbol table, and the feature settings

Durations are in frames of `hop_length` (256) samples, and `sum(durations) == T`, the number of
frames the HiFi-GAN front-end yields for the wav (`len(wav) // hop`). They come from the corpus's
Piper alignments (exact by construction), or from Montreal Forced Aligner TextGrids, whose interval
end times are rounded to frame boundaries by `hifilite.data.alignment` (the rounding rule).

Pitch: `pyworld` (DIO + StoneMask, the FastSpeech 2 recipe) when it imports; it does not import on
machines where setuptools no longer ships `pkg_resources`, and then `librosa.pyin` (probabilistic
YIN with a voicing HMM) is used, which gives a voiced/unvoiced decision as WORLD does. Which one
was used is recorded in stats.json. Unvoiced frames are filled by linear interpolation of log-F0
between voiced neighbours before averaging per phoneme, as in FastSpeech 2.

Files are written atomically; `prepare_features` skips utterances whose cached file is complete
and current, so an interrupted run resumes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..audio import load_audio
from ..config import MelConfig, to_dict
from .corpora import SPLITS, Utterance, corpus_splits, read_ljspeech
from .alignment import textgrid_alignment
from .synth import read_alignment
from ..errors import ConfigError, DataError
from ..io import atomic_write

FEATURE_VERSION = 2
FEATURE_DIR = "acoustic"
F0_MIN, F0_MAX = 60.0, 600.0  # Hz search range for speech


# -------------------------------------------------------------------------------- pitch, energy


def _import_pyworld():
    """pyworld, imported without the deprecation warning its own `import pkg_resources` prints."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import pyworld
    return pyworld


def pitch_backend() -> str:
    """"pyworld" if it imports here, else "pyin" (librosa)."""
    try:
        _import_pyworld()
    except Exception:  # ImportError, or pyworld's own import of pkg_resources failing
        return "pyin"
    return "pyworld"


def frame_f0(wav: np.ndarray, sample_rate: int, hop_length: int, num_frames: int, backend: str) -> np.ndarray:
    """F0 in Hz per mel frame (0 where unvoiced), frame i centred on sample `i * hop + hop / 2`
    like the HiFi-GAN mel's frames."""
    if backend == "pyworld":
        pyworld = _import_pyworld()

        x = wav.astype(np.float64)
        period = 1000.0 * hop_length / sample_rate
        f0, t = pyworld.dio(x, sample_rate, f0_floor=F0_MIN, f0_ceil=F0_MAX, frame_period=period)
        f0 = pyworld.stonemask(x, f0, t, sample_rate)
        # pyworld frame j is centred on sample j * hop; ours on j * hop + hop / 2: average neighbours
        f0 = np.concatenate([f0, f0[-1:]])
        f0 = np.where((f0[:-1] > 0) & (f0[1:] > 0), 0.5 * (f0[:-1] + f0[1:]), np.maximum(f0[:-1], f0[1:]))
    elif backend == "pyin":
        import librosa

        f0, voiced, _ = librosa.pyin(wav[hop_length // 2:], fmin=F0_MIN, fmax=F0_MAX, sr=sample_rate,
                                     frame_length=4 * hop_length, hop_length=hop_length, center=True)
        f0 = np.where(voiced & np.isfinite(f0), f0, 0.0)
    else:
        raise ConfigError(f"pitch backend must be pyworld or pyin, not {backend!r}")
    f0 = np.asarray(f0, dtype=np.float64)[:num_frames]
    return np.pad(f0, (0, num_frames - len(f0)))


def interpolate_log_f0(f0: np.ndarray) -> np.ndarray:
    """log-F0 per frame with unvoiced frames (f0 <= 0) linearly interpolated (held at the ends);
    all zeros if nothing is voiced (such utterances get the mean pitch after normalisation)."""
    voiced = f0 > 0
    if not voiced.any():
        return np.zeros_like(f0, dtype=np.float64)
    idx = np.arange(len(f0))
    return np.interp(idx, idx[voiced], np.log(f0[voiced]))


def phoneme_average(values: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Mean of frame `values` over each phoneme's frames; 0 for phonemes with no frames."""
    durations = np.asarray(durations, dtype=np.int64)
    if int(durations.sum()) != len(values):
        raise DataError(f"durations sum to {int(durations.sum())} but there are {len(values)} frames")
    sums = np.add.reduceat(np.concatenate([values, [0.0]]), np.concatenate([[0], np.cumsum(durations)[:-1]]))
    return np.where(durations > 0, sums / np.maximum(durations, 1), 0.0)


# ---------------------------------------------------------------------------------- extraction


@dataclass
class Features:
    ids: np.ndarray  # (N,) int64
    durations: np.ndarray  # (N,) int64
    mel: np.ndarray  # (n_mels, T) float32
    pitch: np.ndarray  # (N,) float32, phoneme-mean log-F0
    energy: np.ndarray  # (N,) float32, phoneme-mean L2 norm of the STFT magnitude

    def check(self, where: str) -> "Features":
        n, t = len(self.ids), self.mel.shape[-1]
        if not (len(self.durations) == len(self.pitch) == len(self.energy) == n) or n == 0:
            raise DataError(f"{where}: ids, durations, pitch and energy differ in length")
        if int(self.durations.sum()) != t:
            raise DataError(f"{where}: durations sum to {int(self.durations.sum())}, the mel has {t} frames")
        for name in ("mel", "pitch", "energy"):
            if not np.isfinite(getattr(self, name)).all():
                raise DataError(f"{where}: {name} has NaN or infinite values")
        return self


class FeatureExtractor:
    """Mel (the vocoders' front-end), energy and pitch of one utterance."""

    def __init__(self, mel_config: MelConfig = MelConfig(), pitch: str | None = None) -> None:
        from ..audio import MelSpectrogram

        self.mel_config = mel_config
        self.mel_fn = MelSpectrogram.from_config(mel_config)
        self.pitch = pitch or pitch_backend()

    @torch.no_grad()
    def __call__(self, wav: np.ndarray, ids: Sequence[int], durations: Sequence[int], where: str = "") -> Features:
        hop = self.mel_config.hop_length
        durations = np.asarray(durations, dtype=np.int64)
        frames = int(durations.sum())
        if len(wav) // hop != frames:
            raise DataError(f"{where}: durations sum to {frames} frames but the wav has {len(wav) // hop}")
        wav = wav[: frames * hop]
        x = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32)).unsqueeze(0)
        mag = self.mel_fn.magnitude(x)
        mel = torch.log(torch.clamp(self.mel_fn.mel_basis @ mag, min=self.mel_fn.clamp_min))[0].numpy()
        energy_frames = torch.linalg.vector_norm(mag[0], dim=0).double().numpy()
        lf0 = interpolate_log_f0(frame_f0(wav, self.mel_config.sample_rate, hop, frames, self.pitch))
        return Features(
            ids=np.asarray(ids, dtype=np.int64), durations=durations, mel=mel.astype(np.float32),
            pitch=phoneme_average(lf0, durations).astype(np.float32),
            energy=phoneme_average(energy_frames, durations).astype(np.float32),
        ).check(where)


def save_features(path: Path, feats: Features) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, version=np.int64(FEATURE_VERSION), ids=feats.ids, durations=feats.durations,
                     mel=feats.mel, pitch=feats.pitch, energy=feats.energy)
    atomic_write(path, write)


def load_features(path: Path) -> Features:
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != FEATURE_VERSION:
                raise DataError(f"{path}: feature version {int(z['version'])}, expected {FEATURE_VERSION}")
            feats = Features(*(z[k] for k in ("ids", "durations", "mel", "pitch", "energy")))
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: cannot read cached features ({exc}); run `hifilite acoustic prepare` again") from None
    return feats.check(str(path))


# ------------------------------------------------------------------------------------- prepare


def feature_dir(corpus: str | Path) -> Path:
    return Path(corpus) / FEATURE_DIR


def _alignment_of(utt: Utterance, textgrids: Path | None, extractor: FeatureExtractor, frames: int,
                  symbols: dict[str, int]) -> tuple[list[int], np.ndarray]:
    if textgrids is not None:
        tg = textgrids / f"{utt.id}.TextGrid"
        if not tg.is_file():
            raise DataError(f"{tg}: no TextGrid for utterance {utt.id}")
        align = textgrid_alignment(tg, sample_rate=extractor.mel_config.sample_rate,
                                   hop_length=extractor.mel_config.hop_length, num_frames=frames)
        for p in align.phones:
            symbols.setdefault(p, len(symbols))
        return [symbols[p] for p in align.phones], align.durations
    if utt.alignment_path is None:
        raise DataError(f"{utt.wav_path}: no alignments/{utt.id}.json (pass MFA TextGrids with --textgrids)")
    align = read_alignment(utt.alignment_path)
    if align.hop_length != extractor.mel_config.hop_length or align.sample_rate != extractor.mel_config.sample_rate:
        raise DataError(f"{utt.alignment_path}: alignment at {align.sample_rate} Hz / hop {align.hop_length} "
                        "does not match the mel settings")
    return align.phoneme_ids, np.asarray(align.durations, dtype=np.int64)


def _symbol_table(corpus: Path, textgrids: Path | None, symbols: dict[str, int]) -> dict[str, Any]:
    if textgrids is not None:
        return {"kind": "phones", "id_map": {p: [i] for p, i in symbols.items()}}
    info = corpus / "corpus.json"
    if info.is_file():
        data = json.loads(info.read_text(encoding="utf-8"))
        if data.get("phoneme_id_map"):
            return {"kind": "espeak", "id_map": data["phoneme_id_map"], "espeak_voice": "en-us"}
    from .synth import voice_phonemizer

    return {"kind": "espeak", **voice_phonemizer().to_dict()}


def _stats(values: list[np.ndarray]) -> dict[str, float]:
    v = np.concatenate(values).astype(np.float64)
    return {"mean": float(v.mean()), "std": float(max(v.std(), 1e-5)), "min": float(v.min()), "max": float(v.max())}


def prepare_features(
    corpus: str | Path, *, textgrids: str | Path | None = None, mel_config: MelConfig = MelConfig(),
    pitch: str | None = None, progress: bool = True,
) -> Path:
    """Cache the features of every utterance of `corpus` and write stats.json; returns the folder.

    Resumable: an existing, readable feature file is kept. Statistics are over the train split,
    over phonemes with at least one frame (pitch is log-F0 of voiced-interpolated frames).
    """
    corpus = Path(corpus)
    utts = read_ljspeech(corpus)
    tg_dir = Path(textgrids) if textgrids is not None else None
    out = feature_dir(corpus)
    extractor = FeatureExtractor(mel_config, pitch)
    symbols: dict[str, int] = {"_": 0}
    if tg_dir is not None and (out / "stats.json").is_file():  # keep ids stable across resumes
        old = json.loads((out / "stats.json").read_text(encoding="utf-8")).get("symbols", {})
        symbols.update({p: ids[0] for p, ids in old.get("id_map", {}).items()})
    from rich.progress import Progress

    with Progress(console=None, disable=not progress, transient=True) as bar:
        task = bar.add_task("features", total=len(utts))
        for utt in utts:
            path = out / "features" / f"{utt.id}.npz"
            if path.is_file():
                try:
                    load_features(path)
                    if tg_dir is not None:  # re-register the phones of a kept file
                        _alignment_of(utt, tg_dir, extractor, load_features(path).mel.shape[-1], symbols)
                    bar.advance(task)
                    continue
                except DataError:
                    pass
            wav, _ = load_audio(utt.wav_path, mel_config.sample_rate)
            frames = len(wav) // mel_config.hop_length
            ids, durations = _alignment_of(utt, tg_dir, extractor, frames, symbols)
            save_features(path, extractor(wav, ids, durations, where=str(utt.wav_path)))
            bar.advance(task)
    parts = corpus_splits(corpus)
    train = [load_features(out / "features" / f"{u.id}.npz") for u in parts["train"]]
    voiced = [f.pitch[(f.durations > 0) & (f.pitch > 0)] for f in train]  # 0: no voiced frame at all
    stats = {
        "version": FEATURE_VERSION,
        "mel": to_dict(mel_config),
        "pitch_backend": extractor.pitch,
        "pitch": _stats(voiced),
        "energy": _stats([f.energy[f.durations > 0] for f in train]),
        "energy_log": _stats([log_energy(f.energy[f.durations > 0]) for f in train]),
        "symbols": _symbol_table(corpus, tg_dir, symbols),
        "splits": {k: [u.id for u in parts[k]] for k in SPLITS},
        "frames": int(sum(f.mel.shape[-1] for f in train)),
    }
    text = json.dumps(stats, indent=1, ensure_ascii=False)
    atomic_write(out / "stats.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out


ENERGY_LOG_FLOOR = 1e-2  # added before the log: digital silence has energy 0


def log_energy(energy: np.ndarray) -> np.ndarray:
    """Phoneme energy on the `energy=log` scale."""
    return np.log(np.asarray(energy, dtype=np.float64) + ENERGY_LOG_FLOOR)


def energy_stats(stats: dict[str, Any], scale: str = "linear") -> dict[str, float]:
    """The train statistics of phoneme energy on `scale` (linear or log)."""
    key = "energy_log" if scale == "log" else "energy"
    if key not in stats:
        raise DataError("these features have no log-energy statistics (prepared by an older hifilite); run "
                        "`hifilite acoustic prepare --data CORPUS` again: it keeps the features and rewrites stats.json")
    return stats[key]


def normalise_energy(energy: np.ndarray, stats: dict[str, Any], scale: str = "linear") -> np.ndarray:
    """Phoneme energy as models see it: z-score of the train split on `scale` (linear or log)."""
    es = energy_stats(stats, scale)
    values = log_energy(energy) if scale == "log" else np.asarray(energy, dtype=np.float64)
    return (values - es["mean"]) / es["std"]


def read_stats(corpus: str | Path) -> dict[str, Any]:
    path = feature_dir(corpus) / "stats.json"
    if not path.is_file():
        raise DataError(f"{path}: no cached features; run `hifilite acoustic prepare --data {corpus}` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from None


# ------------------------------------------------------------------------------------- dataset


class AcousticDataset(Dataset):
    """Cached utterances of one split with pitch and energy normalised by the train statistics
    (energy on the model's `energy` scale: linear or log).

    Items are dicts of tensors: ids (N,), durations (N,), pitch (N,), energy (N,), mel (T, n_mels)
    and the utterance id; with `teacher_mels` (a folder from `acoustic.distil.write_teacher_mels`)
    also teacher_mel (T, n_mels). Keys may be `(index, epoch)` tuples from `EpochSampler`.
    """

    def __init__(self, corpus: str | Path, split: str, stats: dict[str, Any] | None = None,
                 ids: Iterable[str] | None = None, teacher_mels: str | Path | None = None,
                 energy: str = "linear") -> None:
        self.dir = feature_dir(corpus)
        self.teacher_mels = Path(teacher_mels) if teacher_mels is not None else None
        self.stats = stats or read_stats(corpus)
        if split not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        self.ids = list(ids) if ids is not None else list(self.stats["splits"][split])
        self.energy = energy
        energy_stats(self.stats, energy)  # a clear error now rather than in a worker
        missing = [i for i in self.ids if not (self.dir / "features" / f"{i}.npz").is_file()]
        if missing:
            raise DataError(f"{self.dir}: {len(missing)} utterance(s) have no cached features "
                            f"(e.g. {missing[0]}); run `hifilite acoustic prepare` again")
        if self.teacher_mels is not None:
            missing = [i for i in self.ids if not (self.teacher_mels / f"{i}.npy").is_file()]
            if missing:
                raise DataError(f"{self.teacher_mels}: no teacher mel for {len(missing)} utterance(s) (e.g. "
                                f"{missing[0]}); run `hifilite acoustic teacher-mels` for this corpus")

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index = key[0] if isinstance(key, tuple) else key
        uid = self.ids[index]
        f = load_features(self.dir / "features" / f"{uid}.npz")
        ps = self.stats["pitch"]
        has = f.durations > 0
        pitch = np.where(has & (f.pitch > 0), (f.pitch - ps["mean"]) / ps["std"], 0.0)
        energy = np.where(has, normalise_energy(f.energy, self.stats, self.energy), 0.0)
        item = {
            "id": uid,
            "ids": torch.from_numpy(f.ids),
            "durations": torch.from_numpy(f.durations),
            "pitch": torch.from_numpy(pitch.astype(np.float32)),
            "energy": torch.from_numpy(energy.astype(np.float32)),
            "mel": torch.from_numpy(np.ascontiguousarray(f.mel.T)),
        }
        if self.teacher_mels is not None:

            item["teacher_mel"] = torch.from_numpy(read_teacher_mel(self.teacher_mels, uid, *item["mel"].shape))
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad to the longest item: ids/durations/pitch/energy (B, N), mel (and teacher_mel, when the
    items have it) (B, T, n_mels), with `src_lens` and `mel_lens` (B,). Padding positions are zero and must be masked by length
    (id 0 is also Piper's in-sequence pad symbol)."""
    n = max(len(it["ids"]) for it in items)
    t = max(len(it["mel"]) for it in items)
    b, n_mels = len(items), items[0]["mel"].shape[-1]
    out = {
        "id": [it["id"] for it in items],
        "ids": torch.zeros(b, n, dtype=torch.long),
        "durations": torch.zeros(b, n, dtype=torch.long),
        "pitch": torch.zeros(b, n),
        "energy": torch.zeros(b, n),
        "mel": torch.zeros(b, t, n_mels),
        "src_lens": torch.tensor([len(it["ids"]) for it in items]),
        "mel_lens": torch.tensor([len(it["mel"]) for it in items]),
    }
    for i, it in enumerate(items):
        k, m = len(it["ids"]), len(it["mel"])
        for name in ("ids", "durations", "pitch", "energy"):
            out[name][i, :k] = it[name]
        out["mel"][i, :m] = it["mel"]
    if all("teacher_mel" in it for it in items):
        out["teacher_mel"] = torch.zeros(b, t, n_mels)
        for i, it in enumerate(items):
            out["teacher_mel"][i, : len(it["teacher_mel"])] = it["teacher_mel"]
    return out


def read_teacher_mel(folder: Path, uid: str, frames: int, n_mels: int) -> np.ndarray:
    """The teacher's (frames, n_mels) mel of one utterance; DataError if missing or misshapen."""
    path = Path(folder) / f"{uid}.npy"
    try:
        mel = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no teacher mel for {uid}; run `hifilite acoustic teacher-mels` again") from None
    except Exception as exc:
        raise DataError(f"{path}: unreadable teacher mel ({exc})") from None
    if mel.shape != (frames, n_mels) or not np.isfinite(mel).all():
        raise DataError(f"{path}: teacher mel of shape {mel.shape} (or not finite), expected ({frames}, {n_mels})")
    return mel


def total_seconds(stats: dict[str, Any]) -> float:
    mel = stats["mel"]
    return stats["frames"] * mel["hop_length"] / mel["sample_rate"]


__all__ = [
    "AcousticDataset", "FeatureExtractor", "Features", "collate", "prepare_features", "read_stats",
    "read_teacher_mel",
]
