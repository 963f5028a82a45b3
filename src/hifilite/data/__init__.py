"""Speech corpora: readers (LJSpeech, VCTK, any folder), deterministic splits, Piper synthesis.

Nothing here imports torch or piper at import time; `synthesize_corpus` loads the voice on demand.
"""

from .corpora import (
    CorpusSummary,
    Utterance,
    corpus_splits,
    detect_layout,
    load_split,
    read_corpus,
    read_folder,
    read_ljspeech,
    read_vctk,
    summarize_corpus,
)
from .splits import SPLIT_FILE, SPLITS, VCTK_UNSEEN_SPEAKERS, read_split_file, speaker_split, split_utterances
from .synth import (
    Alignment,
    bundled_voice,
    read_alignment,
    read_texts,
    select_texts,
    shipped_sentences,
    synthesize_corpus,
)

__all__ = [
    "SPLIT_FILE",
    "SPLITS",
    "VCTK_UNSEEN_SPEAKERS",
    "Alignment",
    "CorpusSummary",
    "Utterance",
    "bundled_voice",
    "corpus_splits",
    "detect_layout",
    "load_split",
    "read_alignment",
    "read_corpus",
    "read_folder",
    "read_ljspeech",
    "read_split_file",
    "read_texts",
    "read_vctk",
    "select_texts",
    "shipped_sentences",
    "speaker_split",
    "split_utterances",
    "summarize_corpus",
    "synthesize_corpus",
]
