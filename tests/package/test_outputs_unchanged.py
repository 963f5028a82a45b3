"""The shipped models say what they said: vocoders and the text-to-speech path, for fixed inputs,
against the arrays committed in tests/assets/reference_outputs.npz (see tests/helpers/reference_outputs.py).

Any machine: within a relative RMS error of 1e-3 (hosts round differently; a real change moves the
outputs by more, see the last test). Phoneme ids always exactly. Bit for bit against
tests/assets/reference_outputs.local.npz where this machine wrote one (`reference_outputs.py --local`)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.reference_outputs import LOCAL_REFERENCE, REFERENCE, compute

pytest.importorskip("piper", reason="the text front-end needs piper-tts")

BOUND = 1e-3  # relative RMS error between hosts; the last test shows a 0.1 % weight change exceeds it


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.linalg.norm(got.astype(np.float64) - expected) / max(np.linalg.norm(expected), 1e-12))


def load(path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files if not key.startswith("machine/")}


def keys(path) -> list[str]:
    if not path.exists():
        return []
    with np.load(path) as npz:
        return [k for k in npz.files if not k.startswith("machine/")]


@pytest.fixture(scope="module")
def now() -> dict[str, np.ndarray]:
    return compute()


def test_every_reference_is_recomputed(now):
    assert sorted(now) == sorted(keys(REFERENCE))


@pytest.mark.parametrize("key", keys(REFERENCE))
def test_output_unchanged(key, now):
    expected, got = load(REFERENCE)[key], now[key]
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got.shape, expected.shape)
    if key.endswith("/ids"):
        assert np.array_equal(got, expected), key
    else:
        assert relative_error(got, expected) <= BOUND, f"{key}: relative RMS error {relative_error(got, expected):.2e}"


@pytest.mark.skipif(not LOCAL_REFERENCE.exists(),
                    reason=f"no {LOCAL_REFERENCE.name}: "
                           "run tests/helpers/reference_outputs.py --local before a redesign")
@pytest.mark.parametrize("key", keys(LOCAL_REFERENCE) or ["-"])
def test_output_bit_identical_on_this_machine(key, now):
    expected = load(LOCAL_REFERENCE)[key]
    assert key in now, f"{key} is no longer computed"
    assert now[key].shape == expected.shape, (key, now[key].shape, expected.shape)
    assert np.array_equal(now[key], expected), f"{key}: max |diff| {np.abs(now[key] - expected).max()}"


def test_a_changed_model_is_noticed(now):
    """The bound is not vacuous: every weight scaled by 1.001 moves the audio beyond it."""
    import torch

    from hifilite import load_vocoder
    from tests.helpers.reference_outputs import probe_signal

    voc = load_vocoder("joe-lite")
    with torch.no_grad():
        for p in voc.parameters():
            p.mul_(1.001)
        mel = voc.mel(probe_signal(voc.sample_rate))
        audio = voc(mel)[0].numpy()
    assert relative_error(audio, now["vocoder/joe-lite/audio"]) > BOUND
