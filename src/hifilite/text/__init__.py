"""The text front-end, in the order text flows through it (no torch, no model):

    markup, dates, numbers -> normalize   what people write -> words (never raises)
    sentences                             refuse what cannot be spoken; cut into sentences
    phonemes                              sentence -> espeak-ng phonemes -> Piper ids

`hifilite.data.synth.voice_phonemizer()` is the phonemiser of the bundled Piper voice; an acoustic
model's checkpoint stores its own (`Phonemizer.to_dict`).
"""

from ..errors import TextError
from .normalize import normalize_text, split_breaks
from .phonemes import BOS, EOS, PAD, Phonemized, Phonemizer, load_id_map
from .sentences import MAX_SENTENCE_CHARS, check_text, refuse_control_characters, split_sentences

__all__ = ["TextError", "normalize_text", "split_breaks", "Phonemizer", "Phonemized", "load_id_map",
           "BOS", "EOS", "PAD", "MAX_SENTENCE_CHARS", "check_text", "refuse_control_characters",
           "split_sentences"]
