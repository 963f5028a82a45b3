"""The test suite, laid out by stage like src/hifilite (vocoder/, acoustic/, compress/, data/, ...).

Every folder is a package, so test modules import as `tests.<stage>.test_<what>` (pytest puts the
repository root on sys.path): two stages may each have a `test_search.py`, and shared helpers are
imported the same way from any folder, `from tests.helpers.corpora import make_ljspeech`. Pytest
fixtures shared by one stage live in that stage's conftest.py; test data files in assets/.
"""
