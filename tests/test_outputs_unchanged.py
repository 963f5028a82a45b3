"""The shipped models say exactly what they said: vocoders and the text-to-speech path, for fixed
inputs, against the arrays committed in tests/data/reference_outputs.npz (see reference_outputs.py).

Bit for bit on the machine and torch build that wrote them; elsewhere a different vector unit may
round differently, so there the bound is 1e-4 (a real change moves audio by far more)."""

from __future__ import annotations

import numpy as np
import pytest

from reference_outputs import REFERENCE, compute, machine

pytest.importorskip("piper", reason="the text front-end needs piper-tts")


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.fixture(scope="module")
def now() -> dict[str, np.ndarray]:
    return compute()


def test_every_reference_is_recomputed(reference, now):
    assert sorted(now) == sorted(k for k in reference if not k.startswith("machine/"))


@pytest.mark.parametrize("key", [k for k in np.load(REFERENCE).files if not k.startswith("machine/")])
def test_output_unchanged(key, reference, now):
    expected, got = reference[key], now[key]
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got.shape, expected.shape)
    same_machine = all(str(reference[f"machine/{k}"]) == v for k, v in machine().items())
    if same_machine or key.endswith("/ids"):
        assert np.array_equal(got, expected), f"{key}: max |diff| {np.abs(got - expected).max()}"
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4, err_msg=key)


def test_a_changed_model_is_noticed(now):
    """The comparison is not vacuous: every weight scaled by 1.001 moves the audio beyond the bound."""
    import torch

    from hifilite import load_vocoder
    from reference_outputs import probe_signal

    voc = load_vocoder("joe-lite")
    with torch.no_grad():
        for p in voc.parameters():
            p.mul_(1.001)
        mel = voc.mel(probe_signal(voc.sample_rate))
        audio = voc(mel)[0].numpy()
    assert np.abs(audio - now["vocoder/joe-lite/audio"]).max() > 1e-4
