"""Builders for tiny real corpora on disk (LJSpeech, VCTK 0.92 flac, VCTK 0.80, plain folder), and the
speech-like test signals they and other tests use.

Plain functions rather than conftest fixtures so that any test module can import them and choose
its own layout. Audio is a short sine plus noise: real, decodable files, fast to write.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float = 0.2, sr: int = 22050, freq: float = 220.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def speechy(seconds: float, seed: int = 0, sr: int = 22050) -> np.ndarray:
    """Harmonics of a gliding pitch under a syllable envelope, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 130 + 25 * np.sin(2 * np.pi * 1.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 25)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    x = x + 0.1 * tone(seconds, sr, freq=330.0, seed=seed)[: t.size] + 0.003 * rng.standard_normal(t.size)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def speech_like(seconds: float, seed: int = 0, sr: int = 22050) -> np.ndarray:
    """Voiced harmonics with a gliding pitch and a moving formant, syllable envelope, noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    formant = 700 + 400 * np.sin(2 * np.pi * 0.7 * t)
    voiced = sum(np.exp(-((k * f0 - formant) / 300.0) ** 2) * np.sin(k * phase) for k in range(1, 30))
    env = 0.5 * (1 + np.sin(2 * np.pi * 3.0 * t)) ** 2
    noise = rng.standard_normal(t.size) * (np.sin(2 * np.pi * 0.9 * t) > 0.8) * 0.05
    x = 0.25 * voiced * env + noise + 0.5 * tone(seconds, sr, freq=330.0, seed=seed)[: t.size] * 0.1
    return (0.8 * x / np.abs(x).max()).astype(np.float32)


def write_audio(path: Path, seconds: float = 0.2, sr: int = 22050, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(seconds, sr, seed=seed), sr, subtype="PCM_16")
    return path


# id -> (raw text, normalized text or None for a two-field row)
LJ_ROWS = {
    "LJ001-0001": ("Printing, in the only sense, is 1 art.", "Printing, in the only sense."),
    "LJ001-0002": ('He said "no" twice', 'He said "no" twice'),
    "LJ001-0003": ("A two field row.", None),
    "LJ002-0001": ("Mr. Smith arrived at 5.", "Mister Smith arrived at five."),
    "LJ002-0002": ('"Stop," he said, "now."', '"Stop," he said, "now."'),  # leading quote
}


def make_ljspeech(root: Path, *, missing: tuple[str, ...] = (), seconds: float = 0.1) -> Path:
    """LJSpeech layout; ids listed in `missing` get a metadata row but no wav; clip i lasts
    `seconds` + 0.05 i."""
    lines = []
    for i, (uid, (raw, norm)) in enumerate(LJ_ROWS.items()):
        lines.append(f"{uid}|{raw}" + (f"|{norm}" if norm is not None else ""))
        if uid not in missing:
            write_audio(root / "wavs" / f"{uid}.wav", seconds=seconds + 0.05 * i, seed=i)
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# speaker -> utterance numbers; p315 has audio but no transcripts, as in the real corpus
VCTK_SPEAKERS = {"p225": (1, 2, 3), "p226": (1, 2), "p248": (1, 5), "p315": (1, 2)}


def vctk_text(speaker: str, n: int) -> str:
    return f"Sentence {n} read by {speaker}."


def _vctk_txt(root: Path) -> None:
    for spk, nums in VCTK_SPEAKERS.items():
        if spk == "p315":
            continue
        for n in nums:
            p = root / "txt" / spk / f"{spk}_{n:03d}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(vctk_text(spk, n) + "\n", encoding="utf-8")
    # a transcript without audio must not create an utterance
    (root / "txt" / "p225" / "p225_099.txt").write_text("No audio for me.\n", encoding="utf-8")


def make_vctk_092(root: Path) -> Path:
    """VCTK 0.92: 48 kHz flac, two microphones, wav48_silence_trimmed/."""
    for spk, nums in VCTK_SPEAKERS.items():
        for n in nums:
            for mic in ("mic1", "mic2"):
                name = f"{spk}_{n:03d}_{mic}.flac"
                write_audio(root / "wav48_silence_trimmed" / spk / name, 0.05, sr=48000, seed=n)
    _vctk_txt(root)
    return root


def make_vctk_080(root: Path) -> Path:
    """VCTK 0.80: wav48/pXXX/pXXX_YYY.wav."""
    for spk, nums in VCTK_SPEAKERS.items():
        for n in nums:
            write_audio(root / "wav48" / spk / f"{spk}_{n:03d}.wav", 0.05, sr=48000, seed=n)
    _vctk_txt(root)
    return root


def make_folder(root: Path) -> Path:
    """Nested audio with .txt / .lab transcripts, a non-audio file and a hidden temp file."""
    write_audio(root / "alice" / "a1.wav")
    (root / "alice" / "a1.txt").write_text("Hello from Alice.\n", encoding="utf-8")
    write_audio(root / "alice" / "a2.flac")
    write_audio(root / "bob" / "session" / "b1.wav")
    (root / "bob" / "session" / "b1.lab").write_text("  Bob's   label  \n", encoding="utf-8")
    write_audio(root / "bob" / "a1.wav")  # same stem as alice/a1: ids must stay unique
    (root / "notes.md").write_text("not audio", encoding="utf-8")
    write_audio(root / "alice" / ".a3.tmp.wav")  # half-written temp file
    return root
