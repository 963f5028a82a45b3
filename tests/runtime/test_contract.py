"""One inference contract (`hifilite.runtime.contract.VocoderBackend`): the PyTorch and ONNX Runtime backends
of the same model check their inputs the same way, and stream exactly what they infer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hifilite.errors import AudioError, DataError
from hifilite.runtime import OnnxVocoder, VocoderBackend
from hifilite.vocoder.api import load_vocoder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module", params=["pghi", "joe-tiny"])
def backends(request, tmp_path_factory):
    from hifilite.deploy.export import export_onnx

    path, _ = export_onnx(request.param, tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx")
    return load_vocoder(request.param), OnnxVocoder(path, threads=1)


def speechy(seconds: float = 0.5, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)


def message(call) -> tuple[type, str]:
    try:
        call()
    except (AudioError, DataError) as exc:
        return type(exc), str(exc)
    raise AssertionError("no error")


def test_both_backends_implement_the_contract(backends):
    torch_voc, onnx_voc = backends
    assert isinstance(torch_voc, VocoderBackend) and isinstance(onnx_voc, VocoderBackend)
    assert torch_voc.receptive_field_frames == onnx_voc.receptive_field_frames
    assert torch_voc.mel_config == onnx_voc.mel_config
    assert (torch_voc.phase_settings is None) == (onnx_voc.phase_settings is None)


@pytest.mark.parametrize("bad", [
    np.zeros((80, 0), np.float32),  # no frames
    np.zeros((1, 79, 10), np.float32),  # wrong channels
    np.full((80, 10), np.nan, np.float32),  # NaN
    np.full((80, 10), 200.0, np.float32),  # a linear or dB spectrogram, not a log-mel
])
def test_bad_mels_get_the_same_error_from_both(backends, bad):
    torch_voc, onnx_voc = backends
    assert message(lambda: torch_voc(bad)) == message(lambda: onnx_voc(bad))


@pytest.mark.parametrize("bad", [np.zeros(10, np.float32), np.full(4000, np.inf, np.float32),
                                 np.zeros((2, 4000), np.float32)])
def test_bad_audio_gets_the_same_error_from_both(backends, bad):
    torch_voc, onnx_voc = backends
    assert message(lambda: torch_voc.mel(bad)) == message(lambda: onnx_voc.mel(bad))


def test_same_mel_same_audio_and_streams_equal_inference(backends):
    torch_voc, onnx_voc = backends
    wav = speechy()
    mel_t, mel_o = torch_voc.mel(wav), onnx_voc.mel(wav)
    assert np.abs(np.exp(mel_t.numpy()) - np.exp(mel_o)).max() < 1e-4  # log amplifies near-silent bins
    whole_t, whole_o = torch_voc(mel_o).numpy(), onnx_voc(mel_o)
    assert whole_t.shape == whole_o.shape == (1, mel_o.shape[-1] * onnx_voc.hop_length)
    assert np.abs(whole_t - whole_o).max() < 1e-3
    chunks = [mel_o[..., i:i + 5] for i in range(0, mel_o.shape[-1], 5)] + [mel_o[..., :0]]
    for voc, whole in ((torch_voc, whole_t), (onnx_voc, whole_o)):
        streamed = np.concatenate([np.asarray(voc.to_numpy(p)) for p in voc.stream(iter(chunks))], -1)
        assert np.abs(streamed - whole).max() <= 1e-4
        chunked = voc.to_numpy(voc.infer(mel_o, chunk_frames=7))
        assert np.abs(chunked - whole).max() <= 1e-4
    assert torch.is_tensor(torch_voc(mel_o)) and isinstance(onnx_voc(mel_t.numpy()), np.ndarray)
