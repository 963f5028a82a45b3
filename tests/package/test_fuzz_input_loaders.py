"""Property-based tests of the input loaders: whatever a user hands them, they either work or raise
the project's own error type (`hifilite.errors`), never another exception."""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from hifilite.audio import audio_blocks, load_audio  # noqa: E402
from hifilite.data.dataset import load_mel  # noqa: E402
from hifilite.errors import HifiliteError  # noqa: E402

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_DIR = Path(tempfile.mkdtemp(prefix="hifilite-fuzz-"))


def _file(name: str, data: bytes) -> Path:
    path = _DIR / name
    path.write_bytes(data)
    return path


def check_audio(path: Path, sample_rate: int | None) -> None:
    """load_audio and audio_blocks agree: both fail with an AudioError, or give the same samples."""
    try:
        wav, sr = load_audio(path, sample_rate)
    except HifiliteError:
        wav = None
    try:
        blocks = np.concatenate(list(audio_blocks(path, sample_rate, block_frames=997)))
    except HifiliteError:
        blocks = None
    if wav is None:
        assert blocks is None
        return
    assert wav.dtype == np.float32 and wav.ndim == 1 and wav.size > 0 and np.isfinite(wav).all()
    assert sample_rate is None or sr == sample_rate
    assert blocks is not None and np.array_equal(blocks, wav)


RATES = st.sampled_from([None, 22050, 16000])


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".wav", ".flac", ".ogg", ".bin"]), rate=RATES)
def test_audio_loader_on_random_bytes(data, suffix, rate):
    check_audio(_file(f"random{suffix}", data), rate)


def _riff(fmt_tag, channels, rate, byte_rate, align, bits, declared, payload, riff_size=None, extra=b""):
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, byte_rate, align, bits) + extra
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", declared) + payload
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


U16, U32 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)


@FUZZ
@given(fmt_tag=st.one_of(st.sampled_from([1, 3, 6, 7, 0xFFFE]), U16),
       channels=st.one_of(st.integers(0, 8), U16),
       rate=st.one_of(st.sampled_from([0, 1, 8000, 22050, 44100, 192000]), U32),
       bits=st.one_of(st.sampled_from([0, 8, 16, 24, 32, 64]), U16),
       align=st.one_of(st.integers(0, 16), U16), byte_rate=U32,
       declared=st.one_of(st.integers(0, 4096), U32), payload=st.binary(max_size=4096),
       riff_size=st.one_of(st.none(), U32), rate_out=RATES)
def test_audio_loader_on_random_wav_headers(fmt_tag, channels, rate, bits, align, byte_rate, declared, payload,
                                           riff_size, rate_out):
    data = _riff(fmt_tag, channels, rate, byte_rate, align, bits, declared, payload, riff_size)
    check_audio(_file("header.wav", data), rate_out)


SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-38, 1e30, -1e30, np.nan, np.inf, -np.inf])


@FUZZ
@given(samples=hnp.arrays(np.float64, st.tuples(st.integers(0, 3000), st.integers(1, 3)),
                          elements=st.one_of(st.floats(-2, 2, allow_nan=False), SPECIAL)),
       subtype=st.sampled_from(["FLOAT", "DOUBLE", "PCM_16", "PCM_24", "PCM_U8"]),
       file_rate=st.sampled_from([1, 8000, 22050, 44100, 96000, 2_000_000]), rate=RATES,
       fmt=st.sampled_from(["WAV", "FLAC", "AIFF"]), cut=st.one_of(st.none(), st.integers(0, 30000)))
def test_audio_loader_on_random_wav_contents(samples, subtype, file_rate, rate, fmt, cut):
    buf = io.BytesIO()
    try:
        sf.write(buf, samples, file_rate, subtype=subtype, format=fmt)
    except (sf.LibsndfileError, ValueError, TypeError, RuntimeError, AssertionError):
        return  # a combination libsndfile cannot write (e.g. FLAC with float samples)
    data = buf.getvalue()
    if cut is not None:
        data = data[:cut]  # truncated files, down to a bare header
    check_audio(_file(f"contents.{fmt.lower()}", data), rate)


DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
                          np.bool_, np.complex64, np.complex128, "<U3", "S2", [("a", "<f4"), ("b", "<i2")]])
SHAPES = st.one_of(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
                   st.tuples(st.sampled_from([80, 1, 79]), st.integers(0, 40)),
                   st.tuples(st.just(1), st.sampled_from([80, 81]), st.integers(0, 40)))


@FUZZ
@given(dtype=DTYPES, shape=SHAPES, data=st.data())
def test_mel_loader_on_random_arrays(dtype, shape, data):
    dt = np.dtype(dtype)
    width = 8 * dt.itemsize if dt.kind == "f" else 64
    elements = st.one_of(st.floats(width=width), st.floats(-20, 5, width=width)) if dt.kind == "f" else None
    arr = data.draw(hnp.arrays(dt, shape, elements=elements))
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    try:
        mel = load_mel(_file("mel.npy", buf.getvalue()), 80)
    except HifiliteError:
        return
    assert mel.dtype == np.float32 and mel.ndim == 2 and mel.shape[0] == 80 and mel.shape[1] > 0
    assert np.isfinite(mel).all()


@FUZZ
@given(data=st.binary(max_size=1024), header=st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"PK\x03\x04"]))
def test_mel_loader_on_random_bytes(data, header):
    try:
        load_mel(_file("bytes.npy", header + data), 80)
    except HifiliteError:
        pass


def test_mel_loader_refuses_archives_and_pickles(tmp_path):
    from hifilite.errors import DataError

    np.savez(tmp_path / "m.npz", mel=np.zeros((80, 4), np.float32))
    (tmp_path / "m.npz").rename(tmp_path / "z.npy")
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name in ("z.npy", "o.npy"):
        with pytest.raises(DataError):
            load_mel(tmp_path / name, 80)


# ------------------------------------------------------------------------------------------ text

TEXT = st.one_of(
    st.text(max_size=200),  # any code points, control characters and surrogate-free unicode
    st.text(st.characters(codec="utf-8"), max_size=200),
    st.lists(st.sampled_from(["12", "1,000", "3.5", "$", "%", "1st", "2nd", "Dr.", "St.", "10:30", "p.m.",
                              "2024-02-30", "12/31/1999", "😀", "🇺🇸", "\u200d", "\x00", "\x1b", "\t", "\n\n",
                              "<break time='1s'/>", "<speak>", "&amp;", "http://x.org", "a@b.co", "½",
                              "1e308", "-", "—", "…", "I", "IV", "Mr", "km", "°C", " "]),
             max_size=30).map("".join),
    st.integers(0, 10**400).map(str),  # huge digit strings
    st.from_regex(r"[0-9]{50,400}", fullmatch=True),
)


def _normalize():
    from hifilite.text import normalize_text

    return normalize_text


@FUZZ
@given(text=TEXT)
def test_text_normaliser_on_random_text(text):
    normalize_text = _normalize()
    try:
        out = normalize_text(text)
    except HifiliteError:
        return
    assert isinstance(out, str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_text_front_end_on_random_text(text):
    """Normalise, check, split and phonemise: ids for the model, or a TextError/HifiliteError."""
    pytest.importorskip("piper")
    from hifilite.data.synth import voice_phonemizer
    from hifilite.text import split_sentences

    try:
        phonemizer = voice_phonemizer()
    except HifiliteError as exc:  # no bundled voice in this install
        pytest.skip(str(exc))
    try:
        normalized = _normalize()(text)
        for sentence in split_sentences(normalized):
            result = phonemizer(sentence)
            assert result.ids and all(isinstance(i, int) for i in result.ids)
    except HifiliteError:
        pass
