"""What the server takes from the rest of hifilite, in one place: the shipped models' names, the
cached ONNX exports, the text checks and the synthesis of one sentence.

    voice = Voice.load("joe-lightspeech-10h", "joe-fourier", threads=1)
    items = voice.script("Hello there. It is 5:30.")      # sentences (str) and pauses (float s)
    pcm = voice.sentence(items[0], rate=1.0)              # s16le mono at voice.sample_rate

The exports are made (once, then cached; `hifilite.deploy.cache`) in a child process, so the
server itself never imports torch. One `OnnxTTS` serves every worker thread: ONNX Runtime sessions
are safe to run from several threads, and the espeak-ng phonemiser holds its own lock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hifilite.deploy.stream_io import pcm16, wav_header_open_ended
from hifilite.errors import ConfigError, HifiliteError, TextError
from hifilite.registry import DEFAULT_ACOUSTIC, DEFAULT_VOCODER, ShippedModel, resolve, shipped
from hifilite.tts import OnnxTTS
from hifilite.tts.speaker import RATE_RANGE, SENTENCE_PAUSE_S
from hifilite.version import __version__

__all__ = ["Voice", "ShippedModel", "catalogue", "exported", "wav_header", "DEFAULT_ACOUSTIC", "DEFAULT_VOCODER",
           "RATE_RANGE", "HifiliteError", "TextError", "ConfigError", "__version__"]

_EXPORT = """\
import json, sys
from hifilite.errors import HifiliteError
try:
    from hifilite.deploy.cache import acoustic_onnx, vocoder_onnx
    paths = [str(acoustic_onnx(sys.argv[1])), str(vocoder_onnx(sys.argv[2]))]
except HifiliteError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(1)
print(json.dumps({"paths": paths}))
"""


def exported(model: str, vocoder: str) -> tuple[Path, Path]:
    """The cached ONNX exports of an acoustic model and a vocoder (made on first use), resolved in
    a child process so that torch, which the export needs, never loads into the server."""
    proc = subprocess.run([sys.executable, "-c", _EXPORT, model, vocoder], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        answer = {}
    if proc.returncode or "paths" not in answer:
        reason = answer.get("error") or (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"cannot prepare the ONNX exports of {model} and {vocoder}: {reason}")
    acoustic, voc = answer["paths"]
    return Path(acoustic), Path(voc)


def wav_header(sample_rate: int) -> bytes:
    """A 16-bit mono wav header whose sizes say 'unknown', for audio whose length is not known yet."""
    return wav_header_open_ended(sample_rate)


def catalogue() -> list[ShippedModel]:
    """Every shipped acoustic model and vocoder, acoustic models first."""
    return sorted(shipped().values(), key=lambda m: (m.kind, m.name))


def _language(espeak_voice: str) -> str:
    """espeak-ng's `en-us` as the `en_US` that Wyoming and Home Assistant use."""
    lang, _, region = espeak_voice.replace("_", "-").partition("-")
    return f"{lang.lower()}_{region.upper()}" if region else lang.lower()


class Voice:
    """The loaded models and what a request needs of them; safe to call from several threads."""

    def __init__(self, tts: OnnxTTS, name: str, vocoder: str) -> None:
        self.tts, self.name, self.vocoder = tts, name, vocoder
        self.sample_rate = int(tts.sample_rate)
        self.language = _language(tts.phonemizer.espeak_voice)
        self.pause = SENTENCE_PAUSE_S  # seconds between sentences

    @classmethod
    def load(cls, model: str = DEFAULT_ACOUSTIC, vocoder: str = DEFAULT_VOCODER, threads: int = 1) -> Voice:
        acoustic_path, vocoder_path = exported(str(model), str(vocoder))
        tts = OnnxTTS(acoustic_path, vocoder_path, threads=threads)
        return cls(tts, resolve(model, "acoustic").stem, resolve(vocoder, "vocoder").stem)

    def script(self, text: str) -> list[str | float]:
        """Sentences and pauses (seconds) of `text`; TextError if it is empty, has control
        characters, has nothing to speak or uses a script the voice cannot read."""
        return self.tts.script(text)

    def sentence(self, sentence: str, rate: float = 1.0) -> bytes:
        """One normalised sentence spoken as 16-bit little-endian PCM."""
        return pcm16(self.tts.vocode(self.tts.mel(sentence, rate)))

    def silence(self, seconds: float) -> bytes:
        return bytes(2 * int(round(seconds * self.sample_rate)))

    def warm_up(self) -> None:
        """One short sentence, so the first request does not pay ONNX Runtime's first-run costs."""
        for item in self.script("Hello there."):
            if isinstance(item, str):
                self.sentence(item)
