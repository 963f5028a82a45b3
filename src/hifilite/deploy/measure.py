"""Streaming latency: time to first audio and cost per chunk, for any backend with `.stream()`.

The mel arrives in chunks of `chunk_frames` (as an acoustic model or a network would deliver it)
and is consumed as fast as the vocoder can: `first_audio_ms` is the wall time from handing over
the first chunk until the first audio piece is ready, and includes the generator calls for the
`receptive_field_frames` of look-ahead that first audio needs. `per_chunk_ms` is the median wall
time between later pieces, each covering `chunk_frames` frames (`chunk_audio_ms` of audio), so a
stream keeps up with real time while per_chunk_ms < chunk_audio_ms. Torch-free; works for
`hifilite.Vocoder` and `hifilite.runtime.OnnxVocoder` alike.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from ..errors import ConfigError


def stream_latency(voc: Any, mel: np.ndarray, chunk_frames: int, *, repeats: int = 3,
                   to_input=None) -> dict[str, Any]:
    """Measure `voc.stream` on `mel` (1, n_mels, frames) cut into chunks of `chunk_frames`.

    `to_input` converts a numpy chunk to what `voc.stream` takes (e.g. `torch.from_numpy`).
    The first of `repeats + 1` passes warms up and is discarded; figures are medians over the rest.
    """
    if chunk_frames < 1:
        raise ConfigError(f"chunk_frames must be >= 1, got {chunk_frames}")
    if repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}")
    mel = np.ascontiguousarray(mel, dtype=np.float32)
    total = mel.shape[-1]
    context = int(getattr(voc, "context", None) if hasattr(voc, "context")
                  else voc.generator.receptive_field_frames())
    conv = to_input or (lambda x: x)
    firsts, per_chunk, totals = [], [], []
    for rep in range(repeats + 1):
        chunks = [conv(mel[..., s:s + chunk_frames]) for s in range(0, total, chunk_frames)]
        stamps = []
        t0 = time.perf_counter()
        samples = 0
        for piece in voc.stream(chunks):
            stamps.append(time.perf_counter())
            samples += int(piece.shape[-1])
        t_end = time.perf_counter()
        if samples != total * voc.hop_length:
            raise RuntimeError(f"stream produced {samples} samples for {total} frames")
        if rep == 0:
            continue
        firsts.append(stamps[0] - t0)
        gaps = np.diff(stamps[:-1]) if len(stamps) > 2 else np.diff(stamps)  # the last piece is the tail
        per_chunk.extend(gaps.tolist())
        totals.append(t_end - t0)
    sr, hop = voc.sample_rate, voc.hop_length
    audio_s = total * hop / sr
    return {
        "chunk_frames": chunk_frames,
        "chunk_audio_ms": 1e3 * chunk_frames * hop / sr,
        "context_frames": context,
        "lookahead_ms": 1e3 * context * hop / sr,
        "first_audio_ms": 1e3 * statistics.median(firsts),
        "per_chunk_ms": 1e3 * statistics.median(per_chunk) if per_chunk else float("nan"),
        "stream_rtf_x": audio_s / statistics.median(totals),
        "audio_seconds": audio_s,
    }
