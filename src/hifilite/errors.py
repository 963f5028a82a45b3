"""Errors the user can act on. The CLI prints them as one line and exits non-zero."""


class HifiliteError(Exception):
    """Base class for every error caused by input, configuration or environment (not by a bug)."""


class AudioError(HifiliteError):
    """An audio file is missing, empty, corrupt, or holds no usable samples."""


class ConfigError(HifiliteError):
    """A configuration is invalid: unknown key, wrong type, inconsistent values."""


class CheckpointError(HifiliteError):
    """A checkpoint cannot be loaded safely or does not match the model it claims to be."""


class ModelNotFoundError(HifiliteError):
    """A model name is neither a bundled model nor an existing path."""


class DataError(HifiliteError):
    """A corpus or feature file is malformed (missing files, NaN features, bad metadata)."""


class OutputError(HifiliteError):
    """An output cannot be written where asked: the path is unwritable, occupied (a folder where a
    file should go, or the reverse), or would replace one of the command's own inputs."""


class TextError(HifiliteError):
    """Text that cannot be spoken: empty, no letters, or in a script the voice does not cover."""
