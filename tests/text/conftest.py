"""Fixtures shared by the text front-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def phonemizer():
    """The bundled Piper voice's phonemiser; skips where piper-tts is not installed."""
    pytest.importorskip("piper")
    from hifilite.data.synth import voice_phonemizer

    return voice_phonemizer()
