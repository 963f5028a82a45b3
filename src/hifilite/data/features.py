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

This module extracts and prepares; `hifilite.data.pitch` tracks F0, `hifilite.data.feature_cache`
reads and writes the cache (and puts energy on the models' scales), `hifilite.data.acoustic_dataset`
serves it to training. Their public names are importable from here too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..audio import load_audio
from ..config import MelConfig, to_dict
from .corpora import Utterance, corpus_splits, read_ljspeech
from .splits import SPLITS
from .alignment import textgrid_alignment
from .synth import read_alignment
from ..errors import DataError
from ..io import atomic_write
# the cache format, the pitch tracker and the dataset, importable from here as before
from .acoustic_dataset import AcousticDataset, collate, read_teacher_mel  # noqa: F401
from .feature_cache import (  # noqa: F401
    ENERGY_LOG_FLOOR,
    FEATURE_DIR,
    FEATURE_VERSION,
    Features,
    energy_stats,
    feature_dir,
    load_features,
    log_energy,
    normalise_energy,
    read_stats,
    save_features,
    total_seconds,
)
from .pitch import F0_MAX, F0_MIN, frame_f0, interpolate_log_f0, phoneme_average, pitch_backend  # noqa: F401


# ---------------------------------------------------------------------------------- extraction


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


# ------------------------------------------------------------------------------------- prepare


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
    from ..console import progress as progress_bar

    for utt in progress_bar(utts, "features") if progress else utts:
        path = out / "features" / f"{utt.id}.npz"
        if path.is_file():
            try:
                load_features(path)
                if tg_dir is not None:  # re-register the phones of a kept file
                    _alignment_of(utt, tg_dir, extractor, load_features(path).mel.shape[-1], symbols)
                continue
            except DataError:
                pass
        wav, _ = load_audio(utt.wav_path, mel_config.sample_rate)
        frames = len(wav) // mel_config.hop_length
        ids, durations = _alignment_of(utt, tg_dir, extractor, frames, symbols)
        save_features(path, extractor(wav, ids, durations, where=str(utt.wav_path)))
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


__all__ = [
    "AcousticDataset", "FeatureExtractor", "Features", "collate", "prepare_features", "read_stats",
    "read_teacher_mel",
]
