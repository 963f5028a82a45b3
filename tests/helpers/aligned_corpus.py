"""A tiny aligned corpus for acoustic-model tests: LJSpeech layout with Piper-style alignments."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf


def make_aligned_corpus(root, n=5, seed=0):
    """LJSpeech layout with Piper-style alignment files: harmonic tones whose pitch changes per
    'phoneme', so the features are real and checkable."""
    rng = np.random.default_rng(seed)
    sr, hop = 22050, 256
    (root / "wavs").mkdir(parents=True)
    (root / "alignments").mkdir()
    rows = []
    for i in range(n):
        uid = f"HL-{i + 1:04d}"
        ids = [1, 0] + [int(x) for x in rng.integers(14, 40, size=6)] + [2]
        durations = [int(x) for x in rng.integers(0, 5, size=len(ids))]
        durations[2] = max(durations[2], 3)
        t = np.arange(sum(durations) * hop) / sr
        f0 = np.repeat(rng.uniform(100, 200, size=len(ids)), np.array(durations) * hop)
        wav = 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / sr) + 0.001 * rng.standard_normal(t.size)
        sf.write(str(root / "wavs" / f"{uid}.wav"), wav.astype(np.float32), sr, subtype="FLOAT")
        (root / "alignments" / f"{uid}.json").write_text(json.dumps({
            "text": f"utterance {i}", "phonemes": ["a"] * 6, "phoneme_ids": ids, "durations": durations,
            "hop_length": hop, "sample_rate": sr}))
        rows.append(f"{uid}|utterance {i}|utterance {i}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root
