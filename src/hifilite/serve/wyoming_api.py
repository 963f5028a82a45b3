"""The Wyoming front end (Home Assistant's protocol for voice services), over TCP.

`describe` -> `info` (one TTS program, one voice, streaming supported). `synthesize` ->
`audio-start`, `audio-chunk`..., `audio-stop`, the chunks sent as each sentence is ready. Streaming
(wyoming >= 1.7): `synthesize-start`, `synthesize-chunk`... (each finished sentence is spoken while
text still arrives), `synthesize-stop` -> one `audio-start`, the chunks, `audio-stop`, then
`synthesize-stopped`; a `synthesize` inside a stream is the compatibility copy of its text and is
ignored, as wyoming-piper does. Failures are `error` events (codes: busy, invalid-text,
unknown-voice, timeout, too-long). Events are read by a task of their own, so a client that goes
away is noticed between sentences and the rest of its text is not synthesised.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from .engine import HifiliteError, __version__
from .segment import Segmenter
from .settings import Settings
from .work import Busy, Job, Pool, Timeout

log = logging.getLogger("hifilite.serve")

SAMPLES_PER_CHUNK = 2048
_ATTRIBUTION = Attribution(name="hifilite", url="https://github.com/hifilite/hifilite")


class EventTooLarge(Exception):
    pass


async def read_event(reader: asyncio.StreamReader, limit: int) -> Event | None:
    """`wyoming.event.async_read_event` with a bound on each event's data and payload; None at EOF."""
    line = await reader.readline()
    if not line:
        return None
    header = json.loads(line)
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ValueError("an event header must be a JSON object with a type")
    data = header.get("data") or {}
    sizes = [header.get("data_length") or 0, header.get("payload_length") or 0]
    if any(not isinstance(n, int) or n < 0 or n > limit for n in sizes):
        raise EventTooLarge(f"an event over {limit} bytes")
    if sizes[0]:
        data = {**data, **json.loads(await reader.readexactly(sizes[0]))}
    payload = await reader.readexactly(sizes[1]) if sizes[1] else None
    return Event(type=header["type"], data=data, payload=payload)


def info(pool: Pool) -> Info:
    voice = pool.voice
    tts_voice = TtsVoice(name=voice.name, attribution=_ATTRIBUTION, installed=True, version=__version__,
                         description=f"{voice.name} with the {voice.vocoder} vocoder", languages=[voice.language])
    program = TtsProgram(name="hifilite", attribution=_ATTRIBUTION, installed=True, version=__version__,
                         description="hifilite: fast small speech synthesis on CPUs", voices=[tts_voice],
                         supports_synthesize_streaming=True)
    return Info(tts=[program])


class Handler(AsyncEventHandler):
    """One client connection."""

    def __init__(self, pool: Pool, settings: Settings, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.pool, self.settings = pool, settings
        self.events: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=256)
        self.job: Job | None = None
        self.streaming = False
        self.closing = False
        self.audio_started = False
        self.segmenter = Segmenter()
        self.stream_chars = 0

    async def _read(self) -> None:
        try:
            while (event := await read_event(self.reader, self.settings.body_limit)) is not None:
                await self.events.put(event)
        except (EventTooLarge, ValueError, UnicodeDecodeError, asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, (EventTooLarge, ValueError, UnicodeDecodeError)):
                await self._error(f"bad event ({exc}); closing the connection", "bad-event")
        finally:
            if self.job is not None:
                self.job.cancel()  # the client is gone (or sent garbage): stop its synthesis
            await self.events.put(None)

    async def run(self) -> None:
        reading = asyncio.create_task(self._read())
        try:
            while (event := await self.events.get()) is not None:
                if not await self.handle_event(event):
                    break
        except ConnectionError:
            pass
        finally:
            reading.cancel()
            if self.job is not None:
                self.job.cancel()
                self.job.close()
            self.writer.close()

    async def _error(self, text: str, code: str) -> None:
        try:
            await self.write_event(Error(text=text, code=code).event())
        except ConnectionError:
            pass

    def _voice_error(self, wanted: SynthesizeVoice | None) -> str | None:
        voice = self.pool.voice
        if wanted is None:
            return None
        if wanted.name is not None and wanted.name not in (voice.name, "default"):
            return f"unknown voice {wanted.name!r}; this server speaks with {voice.name!r}"
        if wanted.name is None and wanted.language is not None:
            lang = wanted.language.replace("-", "_").lower()
            if lang not in (voice.language.lower(), voice.language.split("_")[0].lower()):
                return f"no voice for language {wanted.language!r}; this server speaks {voice.language}"
        return None

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; False (after an error event) ends the connection, as wyoming-piper does."""
        if Describe.is_type(event.type):
            await self.write_event(info(self.pool).event())
        elif Synthesize.is_type(event.type):
            if not self.streaming:  # inside a stream: the compatibility copy of the streamed text
                request = Synthesize.from_event(event)
                if await self._open(request.voice, len(request.text)):
                    await self._speak(request.text)
                    await self._finish(stopped=False)
        elif SynthesizeStart.is_type(event.type):
            self.streaming, self.segmenter, self.stream_chars = True, Segmenter(), 0
            await self._open(SynthesizeStart.from_event(event).voice, 0)
        elif SynthesizeChunk.is_type(event.type) and self.streaming:
            text = SynthesizeChunk.from_event(event).text
            self.stream_chars += len(text)
            if self.job is not None:
                self.job.chars = self.stream_chars
            if self.stream_chars > self.settings.max_chars:
                await self._fail(f"the streamed text is over {self.settings.max_chars} characters", "too-long")
            for piece in self.segmenter.add(text):
                await self._speak(piece)
        elif SynthesizeStop.is_type(event.type) and self.streaming:
            await self._speak(self.segmenter.finish())
            await self._finish(stopped=True)
            self.streaming = False
        return not self.closing

    async def _open(self, wanted: SynthesizeVoice | None, chars: int) -> bool:
        """Admit a request (one `synthesize`, or a whole stream); an error event if not possible."""
        problem = self._voice_error(wanted)
        if problem is not None:
            await self._fail(problem, "unknown-voice")
        elif chars > self.settings.max_chars:
            await self._fail(f"the text is {chars} characters; this server takes at most {self.settings.max_chars}",
                             "too-long")
        else:
            try:
                self.job = self.pool.admit("wyoming", chars)
            except Busy as exc:
                await self._fail(str(exc), "busy")
        self.audio_started = False
        return self.job is not None

    async def _fail(self, text: str, code: str) -> None:
        """An error event, the end of the request and of the connection."""
        await self._error(text, code)
        if self.job is not None:
            self.job.close(code)
            self.job = None
        self.closing = True

    async def _speak(self, text: str) -> None:
        """Speak a piece of text into the open request. TextError ends it with an error event,
        except for a streamed piece with no letters (an emoji, a lone '...'), which is skipped."""
        job = self.job
        if job is None or job.cancelled.is_set() or (self.streaming and not any(c.isalpha() for c in text)):
            return
        voice = self.pool.voice
        step = 2 * SAMPLES_PER_CHUNK
        try:
            items = await job.script(text)
            if self.audio_started:  # a later piece of a stream: the pause between its sentences
                items = [voice.pause, *items]
            async for pcm in job.audio(items):
                if not self.audio_started:
                    await self.write_event(AudioStart(rate=voice.sample_rate, width=2, channels=1).event())
                    self.audio_started = True
                for i in range(0, len(pcm), step):
                    chunk = AudioChunk(rate=voice.sample_rate, width=2, channels=1, audio=pcm[i:i + step])
                    await self.write_event(chunk.event())
        except HifiliteError as exc:
            await self._fail(str(exc), "invalid-text")
        except Timeout as exc:
            await self._fail(str(exc), "timeout")

    async def _finish(self, stopped: bool) -> None:
        job, self.job = self.job, None
        if job is None:
            if stopped:
                await self.write_event(SynthesizeStopped().event())
            return
        try:  # the job leaves the pool (and logs its line) even if the client is gone by now
            if not self.audio_started:
                await self.write_event(AudioStart(rate=self.pool.voice.sample_rate, width=2, channels=1).event())
            await self.write_event(AudioStop().event())
            if stopped:
                await self.write_event(SynthesizeStopped().event())
        except ConnectionError:
            job.cancel()
            raise
        finally:
            job.close()


class WyomingService:
    """The Wyoming TCP server over a bound socket; tracks its connections so it can stop them."""

    def __init__(self, pool: Pool, settings: Settings) -> None:
        self.pool, self.settings = pool, settings
        self.server: asyncio.AbstractServer | None = None
        self.handlers: set[asyncio.Task[Any]] = set()

    async def start(self, sock: Any) -> None:
        self.server = await asyncio.start_server(self._connected, sock=sock, limit=self.settings.body_limit)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)
        try:
            await Handler(self.pool, self.settings, reader, writer).run()
        finally:
            if task is not None:
                self.handlers.discard(task)

    async def stop(self, grace: float) -> None:
        """Stop listening; give the connections `grace` s to finish what they are doing, then close them."""
        if self.server is not None:
            self.server.close()
        if self.handlers:
            _, pending = await asyncio.wait(set(self.handlers), timeout=grace)
            for task in pending:
                task.cancel()
