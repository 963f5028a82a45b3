"""Fixtures shared by the acoustic-model tests."""

from __future__ import annotations

import pytest

from hifilite.data.features import prepare_features

from tests.helpers.aligned_corpus import make_aligned_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny aligned corpus (6 utterances) with its features prepared; one per test module."""
    root = make_aligned_corpus(tmp_path_factory.mktemp("aligned") / "c", n=6)
    prepare_features(root, progress=False)
    return root
