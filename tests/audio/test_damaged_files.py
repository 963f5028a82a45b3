"""Damaged audio files: a header that promises more data than the file holds is an error, not a
silently shorter signal; open-ended headers (pipes) and absurd sample rates."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from hifilite.audio import audio_blocks, declared_data_size, load_audio
from hifilite.deploy.stream_io import wav_header_open_ended
from hifilite.errors import AudioError


def encoded(fmt: str, n: int = 4000, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, 0.1 * np.sin(np.arange(n) * 0.05), 22050, subtype=subtype, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["WAV", "AIFF"])
@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_files_are_refused(tmp_path, fmt, keep):
    data = encoded(fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[:int(len(data) * keep)])
    assert sf.info(path).frames < 4000  # libsndfile alone would return the shorter signal
    declared, present = declared_data_size(path)
    assert declared > present
    with pytest.raises(AudioError, match="truncated: its header declares"):
        load_audio(path)
    with pytest.raises(AudioError, match="truncated"):
        audio_blocks(path, 22050)


@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("AIFF", "PCM_24"), ("FLAC", "PCM_16")])
def test_complete_files_load(tmp_path, fmt, subtype):
    path = tmp_path / f"ok.{fmt.lower()}"
    path.write_bytes(encoded(fmt, 4001, subtype))
    wav, sr = load_audio(path)
    assert sr == 22050 and wav.size == 4001
    if fmt != "FLAC":
        declared, present = declared_data_size(path)
        assert declared <= present


def test_open_ended_header_from_a_pipe_is_read_in_full(tmp_path):
    """`vocode -o -` writes sizes of 0xFFFFFFFF: not a truncated file, read to the end."""
    pcm = (np.round(0.1 * np.sin(np.arange(3000) * 0.05) * 32767)).astype("<i2").tobytes()
    path = tmp_path / "piped.wav"
    path.write_bytes(wav_header_open_ended(22050) + pcm)
    assert declared_data_size(path) is None
    wav, _ = load_audio(path)
    assert wav.size == 3000
    assert np.concatenate(list(audio_blocks(path, 22050, 512))).size == 3000


@pytest.mark.parametrize("rate", [1, 999, 2_000_000])
def test_absurd_sample_rates_are_refused(tmp_path, rate):
    data = bytearray(encoded("WAV"))
    struct.pack_into("<I", data, 24, rate)  # the fmt chunk's sample rate
    path = tmp_path / "rate.wav"
    path.write_bytes(bytes(data))
    with pytest.raises(AudioError, match="sample rate"):
        load_audio(path, 22050)


def test_vocode_reports_a_truncated_input_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    data = encoded("WAV", 8000)
    (tmp_path / "cut.wav").write_bytes(data[:len(data) // 2])
    res = CliRunner().invoke(app, ["vocode", str(tmp_path / "cut.wav"), "-o", str(tmp_path / "out"), "-m", "v3"])
    assert res.exit_code != 0 and "truncated" in str(res.exception)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_signal_too_short_to_survive_resampling_is_refused(tmp_path):
    """One sample at 44.1 kHz resamples to none at 16 kHz: an error, not an empty signal."""
    sf.write(tmp_path / "one.wav", np.zeros((1, 1)), 44100, subtype="FLOAT")
    with pytest.raises(AudioError, match="too short"):
        load_audio(tmp_path / "one.wav", 16000)
    with pytest.raises(AudioError, match="too short"):
        list(audio_blocks(tmp_path / "one.wav", 16000))
