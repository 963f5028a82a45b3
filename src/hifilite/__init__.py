"""hifilite: fast, small speech synthesis for CPUs and edge devices.

    import hifilite
    voc = hifilite.load_vocoder("lj-v1")
    mel = voc.mel("speech.wav")      # [1, n_mels, frames]
    audio = voc(mel)                 # [1, samples] float32 at voc.sample_rate

Importing the package does not import torch; the vocoder API does on first use.
"""

from .version import __version__

__all__ = ["load_vocoder", "Vocoder", "__version__"]


def __getattr__(name):
    if name in ("load_vocoder", "Vocoder"):
        from .vocoder import api

        return getattr(api, name)
    raise AttributeError(name)
