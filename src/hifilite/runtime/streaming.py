"""Streaming vocoding that equals offline vocoding, shared by the PyTorch and ONNX paths.

An output frame t (hop samples) of a HiFi-GAN-like generator depends on mel frames
[t - C, t + C] only, where C = `Generator.receptive_field_frames()`; at the ends of the signal the
convolutions see zero padding. So a window of mel frames [a, b) reproduces offline output exactly
for frames [a + C, b - C), and also for frames from a when a = 0 (the true start) and up to b when
b is the end of the stream. `MelStreamer` keeps the last frames it still needs, and whenever C
frames of look-ahead exist beyond what it has emitted it runs the generator on exactly
[emitted - C, received) and returns the new part. Nothing here imports torch: the caller passes
the generator call and the concatenation function of its array library.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..errors import DataError

Array = Any  # a torch.Tensor or a numpy.ndarray, shaped (B, n_mels, frames) / (B, samples)


class MelStreamer:
    """Incremental vocoding with exactly `context` frames of receptive-field context.

    Args:
        run: generator call, mel window (B, n_mels, w) -> audio (B, w * hop).
        context: one-sided context in mel frames (`receptive_field_frames()`).
        hop: audio samples per mel frame.
        concat: `torch.cat` or `numpy.concatenate` (called as `concat(list, axis)`).
        max_frames: at most this many new frames per generator call, so one huge chunk is
            processed in pieces and memory stays bounded (None: no limit).

    `push(chunk)` returns the audio pieces that became final; `finish()` returns the rest. The
    concatenation of all pieces equals `run(whole mel)` up to float rounding, for any chunking.
    First audio needs `context` frames of look-ahead (or the end of the stream).
    """

    def __init__(self, run: Callable[[Array], Array], context: int, hop: int,
                 concat: Callable[..., Array], max_frames: int | None = None) -> None:
        if context < 0 or hop < 1:
            raise ValueError(f"context must be >= 0 and hop >= 1, got {context}, {hop}")
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.run, self.context, self.hop = run, context, hop
        self.concat, self.max_frames = concat, max_frames
        self._buf: Array | None = None  # mel frames [buf_start, received)
        self._buf_start = 0
        self.received = 0  # mel frames pushed so far
        self.emitted = 0  # mel frames whose audio has been returned
        self.calls = 0  # generator calls made
        self._finished = False
        self._shape: tuple[int, int] | None = None

    def push(self, chunk: Array) -> list[Array]:
        """Add mel frames (B, n_mels, f); return the audio pieces (B, samples) now final."""
        if self._finished:
            raise DataError("stream already finished")
        if chunk.ndim != 3:
            raise DataError(f"expected a mel chunk of shape (B, n_mels, frames), got {tuple(chunk.shape)}")
        if self._shape is None:
            self._shape = (int(chunk.shape[0]), int(chunk.shape[1]))
        elif (int(chunk.shape[0]), int(chunk.shape[1])) != self._shape:
            raise DataError(f"mel chunk of shape {tuple(chunk.shape)} does not continue a stream of "
                            f"(batch, n_mels) = {self._shape}")
        if chunk.shape[-1] == 0:
            return []
        self._buf = chunk if self._buf is None else self.concat([self._buf, chunk], -1)
        self.received += int(chunk.shape[-1])
        return self._emit_until(self.received - self.context)

    def finish(self) -> list[Array]:
        """End of stream: return the audio of the remaining frames (the right edge sees zero padding)."""
        if self._finished:
            return []
        self._finished = True
        if self.received == 0:
            raise DataError("the mel stream held no frames")
        return self._emit_until(self.received)

    def _emit_until(self, end: int) -> list[Array]:
        out = []
        while end > self.emitted:
            stop = end if self.max_frames is None else min(end, self.emitted + self.max_frames)
            a = max(0, self.emitted - self.context)
            b = min(self.received, stop + self.context)
            window = self._buf[..., a - self._buf_start:b - self._buf_start]
            y = self.run(window)
            self.calls += 1
            out.append(y[..., (self.emitted - a) * self.hop:(stop - a) * self.hop])
            self.emitted = stop
            keep = max(0, self.emitted - self.context)  # frames older than this are never needed
            if keep > self._buf_start:
                self._buf = self._buf[..., keep - self._buf_start:]
                self._buf_start = keep
        return out


def split_frames(total: int, sizes: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) pairs that cut `total` frames into chunks of the given sizes, cycled."""
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"chunk sizes must be >= 1, got {list(sizes)}")
    bounds, start, i = [], 0, 0
    while start < total:
        end = min(total, start + sizes[i % len(sizes)])
        bounds.append((start, end))
        start, i = end, i + 1
    return bounds
