"""Torch-free inference of an exported vocoder: numpy + ONNX Runtime + soundfile + librosa's mel basis.

    from hifilite.runtime import OnnxVocoder
    voc = OnnxVocoder("lj-v1.onnx")          # reads lj-v1.json beside it (`hifilite export`)
    mel = voc.mel("speech.wav")              # (1, n_mels, frames) float32, same as hifilite.audio
    audio = voc(mel)                         # (1, frames * hop) float32
    for piece in voc.stream(mel_chunks):     # streaming; the pieces concatenate to `voc(mel)`
        ...

Text to speech the same way, with an exported acoustic model (`hifilite acoustic export`):

    from hifilite.runtime import OnnxTTS
    tts = OnnxTTS("acoustic.onnx", "joe-lite.onnx", threads=1)   # each with its sidecar .json
    audio = tts("Dr. Smith paid $5 on May 3rd.")   # float32 at tts.sample_rate

`pip install "hifilite[runtime]"` is enough for both (onnxruntime, librosa's mel basis, num2words,
and the espeak-ng phonemiser that piper-tts bundles): nothing on this path imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .tts.speaker import SentenceSpeaker, check_pair, phonemizer_for
from .audio import audio_blocks, check_log_mel_range, stream_log_mel
from .deploy.sidecar import LOG_CLAMP_MIN, MAGNITUDE_EPS, read_sidecar, sidecar_of
from .vocoder.streaming import MelStreamer
from .errors import AudioError, ConfigError, DataError, ModelNotFoundError

DEFAULT_CHUNK_FRAMES = 1024
_BLOCK_FRAMES = 2048  # STFT frames per block, so a long file never holds all frames at once


class LogMel:
    """numpy port of `hifilite.audio.MelSpectrogram` (the official HiFi-GAN front-end).

    Reflect-pad (n_fft - hop) / 2 on both sides, frames every `hop` samples without centring,
    periodic Hann window of `win_length` centred in `n_fft`, magnitude sqrt(re^2 + im^2 + 1e-9),
    librosa slaney mel basis, log(max(x, 1e-5)). Input (T,) or (B, T); output (B, n_mels, T // hop).
    """

    def __init__(self, sample_rate: int = 22050, n_fft: int = 1024, hop_length: int = 256,
                 win_length: int = 1024, n_mels: int = 80, fmin: float = 0.0,
                 fmax: float | None = 8000.0, clamp_min: float = LOG_CLAMP_MIN) -> None:
        import librosa.filters

        if win_length > n_fft:
            raise ConfigError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
        if (n_fft - hop_length) % 2:
            raise ConfigError("n_fft - hop_length must be even for symmetric padding")
        self.sample_rate, self.n_fft, self.hop_length = sample_rate, n_fft, hop_length
        self.win_length, self.n_mels, self.clamp_min = win_length, n_mels, clamp_min
        self.mel_basis = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                             fmax=fmax).astype(np.float64)
        n = np.arange(win_length)
        hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)  # periodic, as torch.hann_window
        left = (n_fft - win_length) // 2
        self.window = np.zeros(n_fft, dtype=np.float64)
        self.window[left:left + win_length] = hann

    @property
    def pad(self) -> int:
        return (self.n_fft - self.hop_length) // 2

    def _frames(self, wav: np.ndarray, padded: bool = False) -> tuple[np.ndarray, int]:
        wav = np.asarray(wav, dtype=np.float32)  # the torch path sees float32 samples too
        if wav.ndim == 1:
            wav = wav[None]
        if wav.ndim != 2:
            raise AudioError(f"expected audio of shape (T,) or (B, T), got {wav.shape}")
        if padded:
            if wav.shape[-1] < self.n_fft:
                raise AudioError(f"padded segment too short: {wav.shape[-1]} samples (< n_fft {self.n_fft})")
            x = wav
        else:
            if wav.shape[-1] <= self.pad:
                raise AudioError(f"audio too short: {wav.shape[-1]} samples (the front-end needs > {self.pad})")
            x = np.pad(wav, ((0, 0), (self.pad, self.pad)), mode="reflect")
        frames = 1 + (x.shape[-1] - self.n_fft) // self.hop_length
        view = np.lib.stride_tricks.sliding_window_view(x, self.n_fft, axis=-1)[:, ::self.hop_length]
        return view[:, :frames], frames

    def _magnitude_blocks(self, view: np.ndarray, frames: int):
        """(start, |STFT| (B, n_fft // 2 + 1, block) float64) over blocks of frames.

        float64: the log amplifies the relative rounding error of near-silent bins, and two float32
        implementations (this and torch's) would each be ~1e-4 off there.
        """
        for s in range(0, frames, _BLOCK_FRAMES):
            spec = np.fft.rfft(view[:, s:s + _BLOCK_FRAMES] * self.window, axis=-1)
            yield s, np.sqrt(spec.real**2 + spec.imag**2 + MAGNITUDE_EPS).transpose(0, 2, 1)

    def magnitude(self, wav: np.ndarray, padded: bool = False) -> np.ndarray:
        """Linear STFT magnitude (B, n_fft // 2 + 1, frames), float64."""
        view, frames = self._frames(wav, padded)
        out = np.empty((view.shape[0], self.n_fft // 2 + 1, frames), dtype=np.float64)
        for s, mag in self._magnitude_blocks(view, frames):
            out[:, :, s:s + mag.shape[-1]] = mag
        return out

    def __call__(self, wav: np.ndarray, padded: bool = False) -> np.ndarray:
        """(T,) or (B, T) float waveform -> (B, n_mels, frames) float32 log-mel. `padded=True`: the
        input is a segment of the padded signal (`hifilite.audio.ReflectFramer`), framed as it is."""
        view, frames = self._frames(wav, padded)
        out = np.empty((view.shape[0], self.n_mels, frames), dtype=np.float32)
        for s, mag in self._magnitude_blocks(view, frames):
            mel = np.matmul(self.mel_basis, mag)
            out[:, :, s:s + mag.shape[-1]] = np.log(np.maximum(mel, self.clamp_min))
        return out


def session(model_path: str | os.PathLike, threads: int | None = None):
    """An ONNX Runtime CPU session; `threads` pins the intra-op pool (None: ONNX Runtime's default)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for invalid models
        reason = " ".join(str(exc).split())[:300]
        raise ModelNotFoundError(f"{model_path}: ONNX Runtime cannot load it ({reason})") from None


def _exported(model_path: str | os.PathLike, sidecar: str | os.PathLike | None, kind: str,
              threads: int | None, n_inputs: int) -> tuple[Path, dict[str, Any], Any]:
    """(path, checked sidecar, session) of an exported model of `kind` taking `n_inputs` inputs;
    the graph's inputs and output must be the ones its sidecar names."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelNotFoundError(f"{model_path}: no such ONNX file")
    meta = read_sidecar(sidecar or sidecar_of(model_path), kind=kind)
    if len(meta["inputs"]) != n_inputs:
        raise ConfigError(f"{model_path}: a {kind} graph takes {n_inputs} input(s), the sidecar names "
                          f"{', '.join(meta['inputs'])}")
    sess = session(model_path, threads)
    names = [i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()]
    if names != (list(meta["inputs"]), [meta["output"]]):
        raise ConfigError(f"{model_path}: graph inputs/outputs {names} do not match the sidecar "
                          f"({', '.join(meta['inputs'])} -> {meta['output']})")
    return model_path, meta, sess


class OnnxVocoder:
    """An exported vocoder (`.onnx` + sidecar JSON) with the mel front-end it was trained on."""

    def __init__(self, model_path: str | os.PathLike, sidecar: str | os.PathLike | None = None,
                 threads: int | None = None) -> None:
        self.path, self.meta, self.session = _exported(model_path, sidecar, "vocoder", threads, 1)
        self.input = self.meta["inputs"][0]
        self.mel_config = dict(self.meta["mel"])
        self.mel_fn = LogMel(**self.mel_config, clamp_min=self.meta.get("log_clamp_min", LOG_CLAMP_MIN))
        self.context = int(self.meta["receptive_field_frames"])
        self.name = self.meta.get("name") or self.path.stem
        self.chunk_frames = DEFAULT_CHUNK_FRAMES
        self.phase = self.meta.get("phase")  # prior family: the graph gives log-magnitudes, the phase is ours

    @property
    def sample_rate(self) -> int:
        return int(self.meta["sample_rate"])

    @property
    def hop_length(self) -> int:
        return int(self.meta["hop_length"])

    @property
    def n_mels(self) -> int:
        return int(self.meta["n_mels"])

    def mel(self, audio: str | os.PathLike | np.ndarray) -> np.ndarray:
        """Log-mel (1, n_mels, frames) of a file (resampled, mixed to mono) or of a waveform
        (T,) / (1, T) already at `sample_rate`; computed chunk by chunk (see `mel_chunks`)."""
        return np.concatenate(list(self.mel_chunks(audio)), axis=-1)

    def mel_chunks(self, audio: str | os.PathLike | np.ndarray,
                   chunk_frames: int | None = None) -> Iterator[np.ndarray]:
        """The log-mel of `audio` as (1, n_mels, f) pieces of at most `chunk_frames` frames (default
        `self.chunk_frames`). A file is read, mixed and resampled block by block, so memory does
        not grow with its length; the pieces concatenate to the whole signal's log-mel. A file
        that cannot be opened is reported here, bad samples as their chunk is computed."""
        if isinstance(audio, (str, os.PathLike)):
            blocks: Iterable[np.ndarray] = audio_blocks(audio, self.sample_rate)
        else:
            blocks = [self._check_wave(audio)]
        fn = self.mel_fn
        return stream_log_mel(blocks, fn.n_fft, fn.hop_length, chunk_frames or self.chunk_frames,
                              lambda segment: fn(segment, padded=True))

    def _check_wave(self, audio: np.ndarray) -> np.ndarray:
        wav = np.asarray(audio, dtype=np.float32)
        if wav.ndim == 2 and wav.shape[0] == 1:
            wav = wav[0]
        if wav.ndim != 1:
            raise AudioError(f"expected mono audio of shape (T,) or (1, T), got {wav.shape}")
        if wav.size < self.hop_length:
            raise AudioError(f"audio too short: {wav.size} samples (< one hop of {self.hop_length})")
        if not np.isfinite(wav).all():
            raise AudioError("audio contains NaN or infinite samples")
        return wav

    def check_mel(self, mel: np.ndarray, allow_empty: bool = False) -> np.ndarray:
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim == 2:
            mel = mel[None]
        if mel.ndim != 3 or mel.shape[1] != self.n_mels:
            raise DataError(f"expected a mel of shape (1, {self.n_mels}, frames), got {mel.shape}")
        if mel.shape[-1] == 0 and not allow_empty:
            raise DataError("mel has zero frames")
        if not np.isfinite(mel).all():
            raise DataError("mel contains NaN or infinite values")
        check_log_mel_range(mel)
        return np.ascontiguousarray(mel)

    def run(self, mel: np.ndarray) -> np.ndarray:
        """One ONNX Runtime call: (B, n_mels, frames) -> (B, frames * hop), no checks, no chunking
        (a prior-family graph: -> log-magnitudes (B, bins, frames))."""
        return self.session.run([self.meta["output"]], {self.input: mel})[0]

    def _phase(self):
        from .vocoder.pghi import BatchPhase

        p = self.phase
        return BatchPhase(p["n_fft"], self.hop_length, p["hop"], p["method"], p["iterations"])

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        return self.infer(mel, self.chunk_frames)

    def infer(self, mel: np.ndarray, chunk_frames: int | None = None) -> np.ndarray:
        """(B, n_mels, frames) or (n_mels, frames) -> (B, frames * hop); with `chunk_frames`, at most
        that many new frames per call plus receptive-field context (bounded memory, same result)."""
        mel = self.check_mel(mel)
        if not chunk_frames or mel.shape[-1] <= chunk_frames + 2 * self.context:
            return self.run(mel) if self.phase is None else self._phase()(self.run(mel))
        return np.concatenate(list(self.stream([mel], max_frames=chunk_frames)), axis=-1)

    def _graph_pieces(self, mel_chunks: Iterable[np.ndarray], max_frames: int | None) -> Iterator[np.ndarray]:
        """The graph's output over the stream: audio pieces, or log-magnitude pieces (hop 1 frame)."""
        streamer = MelStreamer(self.run, self.context, 1 if self.phase else self.hop_length, np.concatenate,
                               max_frames=max_frames or self.chunk_frames)
        for chunk in mel_chunks:
            yield from streamer.push(self.check_mel(chunk, allow_empty=True))
        yield from streamer.finish()

    def stream(self, mel_chunks: Iterable[np.ndarray], max_frames: int | None = None) -> Iterator[np.ndarray]:
        """Yield audio (B, samples) as soon as it is final; the pieces concatenate to `infer(whole mel)`.

        Each chunk is (B, n_mels, f) or (n_mels, f) with any f >= 0. Output for a frame is
        produced once `receptive_field_frames` frames after it have arrived (or the stream ends).
        """
        if self.phase is None:
            yield from self._graph_pieces(mel_chunks, max_frames)
            return
        phase = self._phase()  # Griffin-Lim holds every frame and gives all the audio at the end
        for logmag in self._graph_pieces(mel_chunks, max_frames):
            out = phase.push(logmag)
            if out.shape[-1]:
                yield out
        yield phase.finish()


def load(model_path: str | os.PathLike, threads: int | None = None) -> OnnxVocoder:
    return OnnxVocoder(model_path, threads=threads)


class OnnxAcoustic:
    """An exported acoustic model (`hifilite acoustic export`, sidecar JSON beside it): phoneme ids
    -> (n_mels, frames)."""

    def __init__(self, model_path: str | os.PathLike, threads: int | None = None,
                 sidecar: str | os.PathLike | None = None) -> None:
        self.path, self.meta, self.session = _exported(model_path, sidecar, "acoustic", threads, 2)
        self.mel_config = dict(self.meta["mel"])
        self.symbols = dict(self.meta["symbols"])

    def __call__(self, ids: list[int], rate: float = 1.0) -> np.ndarray:
        if not ids:
            raise DataError("no phoneme ids")
        ids_name, scale_name = self.meta["inputs"]
        out = self.session.run([self.meta["output"]], {ids_name: np.asarray([ids], dtype=np.int64),
                                                       scale_name: np.asarray([1.0 / rate], dtype=np.float32)})[0]
        return out[0]


class OnnxTTS(SentenceSpeaker):
    """Text -> speech with ONNX Runtime only: an exported acoustic model and an exported vocoder.

        tts = OnnxTTS("acoustic.onnx", "vocoder.onnx", threads=1)
        audio = tts("It is 5:30 and 72 degrees.", rate=1.1)   # float32 at tts.sample_rate
    """

    def __init__(self, acoustic: str | os.PathLike, vocoder: str | os.PathLike, threads: int | None = None) -> None:
        self.acoustic = OnnxAcoustic(acoustic, threads)
        self.vocoder = OnnxVocoder(vocoder, threads=threads)
        check_pair(self.acoustic.mel_config, self.vocoder.mel_config)
        self.phonemizer = phonemizer_for(self.acoustic.symbols, str(acoustic))

    @property
    def sample_rate(self) -> int:
        return self.vocoder.sample_rate

    def mel_from_ids(self, ids: list[int], rate: float) -> np.ndarray:
        return self.acoustic(ids, rate)

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self.vocoder(mel)[0]


__all__ = ["LogMel", "OnnxVocoder", "OnnxAcoustic", "OnnxTTS", "load", "session"]
