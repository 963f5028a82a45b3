"""The Wyoming front end through the package's own client (`wyoming.client.AsyncTcpClient`, the
one Home Assistant uses): describe, synthesize, the streaming events, and faults."""

from __future__ import annotations

import asyncio

import numpy as np
from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from .conftest import LONG_TEXT, TEXT, assert_speech


async def until(client: AsyncTcpClient, last: str, timeout: float = 20) -> list[Event]:
    """Events up to and including the first of type `last` (or an error, or the end)."""
    events: list[Event] = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        if event is None:
            return events
        events.append(event)
        if event.type in (last, "error"):
            return events


def audio_of(events: list[Event]) -> np.ndarray:
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert all(c.rate == 22050 and c.width == 2 and c.channels == 1 for c in chunks)
    return np.frombuffer(b"".join(c.audio for c in chunks), dtype="<i2")


def run(served, coro) -> object:
    return asyncio.run(asyncio.wait_for(coro, 60))


async def synthesize(port: int, text: str = "Still here.", **kw) -> list[Event]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text, **kw).event())
        return await until(client, "audio-stop")


def test_describe_and_synthesize(served):
    async def go():
        async with AsyncTcpClient("127.0.0.1", served.wyoming_port) as client:
            await client.write_event(Describe().event())
            info = Info.from_event(await client.read_event())
            voice = SynthesizeVoice(name=info.tts[0].voices[0].name)
            await client.write_event(Synthesize(text=TEXT, voice=voice).event())
            return info, await until(client, "audio-stop")

    info, events = run(served, go())
    (program,) = info.tts
    assert program.supports_synthesize_streaming
    assert [v.name for v in program.voices] == [served.service.voice.name]
    assert program.voices[0].languages == ["en_US"]
    assert [e.type for e in events][0] == "audio-start" and events[-1].type == "audio-stop"
    start = AudioStart.from_event(events[0])
    assert (start.rate, start.width, start.channels) == (22050, 2, 1)
    assert_speech(audio_of(events), min_seconds=1.0)


def test_streaming_speaks_before_the_text_ends(served):
    async def go():
        async with AsyncTcpClient("127.0.0.1", served.wyoming_port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(language="en_US")).event())
            for word in "Hello there, this is streamed text. And it".split(" "):
                await client.write_event(SynthesizeChunk(text=word + " ").event())
            early = await until(client, "audio-chunk")  # audio for the finished sentence, before the stop
            for word in "keeps going for a while. Done".split(" "):
                await client.write_event(SynthesizeChunk(text=word + " ").event())
            await client.write_event(Synthesize(text="the compatibility copy, not spoken").event())
            await client.write_event(SynthesizeStop().event())
            return early, await until(client, "synthesize-stopped")

    early, rest = run(served, go())
    assert [e.type for e in early] == ["audio-start", "audio-chunk"]
    types = [e.type for e in rest]
    assert types[-2:] == ["audio-stop", "synthesize-stopped"] and "audio-start" not in types
    audio = audio_of(early + rest)
    assert_speech(audio, min_seconds=2.0)
    assert audio.size < 8 * 22050  # the compatibility copy was not spoken as well


def test_unknown_voice_is_an_error_event(served):
    events = run(served, synthesize(served.wyoming_port, TEXT, voice=SynthesizeVoice(name="nobody")))
    assert [e.type for e in events] == ["error"] and events[0].data["code"] == "unknown-voice"
    events = run(served, synthesize(served.wyoming_port, "\x00\x01"))
    assert [e.type for e in events] == ["error"] and events[0].data["code"] == "invalid-text"
    assert_speech(audio_of(run(served, synthesize(served.wyoming_port))), min_seconds=0.3)


def test_garbage_and_oversized_events(served):
    async def send_raw(raw: bytes) -> list[Event]:
        reader, writer = await asyncio.open_connection("127.0.0.1", served.wyoming_port)
        writer.write(raw)
        await writer.drain()
        client = AsyncTcpClient("127.0.0.1", served.wyoming_port)
        client._reader, client._writer = reader, writer
        events = await until(client, "error", timeout=10)
        writer.close()
        return events

    for raw in (b"this is not json\n", b'{"type": "synthesize", "data_length": 999999999}\n', b"[1, 2]\n"):
        events = run(served, send_raw(raw))
        assert events and events[-1].type == "error" and events[-1].data["code"] == "bad-event", raw
    assert_speech(audio_of(run(served, synthesize(served.wyoming_port))), min_seconds=0.3)


def test_disconnect_stops_synthesis(served, requests_log):
    async def go():
        client = AsyncTcpClient("127.0.0.1", served.wyoming_port)
        await client.connect()
        await client.write_event(Synthesize(text=LONG_TEXT).event())
        await until(client, "audio-chunk")
        await client.disconnect()

    run(served, go())
    record = [r for r in requests_log("cancelled") if r["proto"] == "wyoming"][-1]
    assert record["sentences"] < 40
    assert_speech(audio_of(run(served, synthesize(served.wyoming_port))), min_seconds=0.3)


class _GoneWriter:
    """A connection whose client has gone: every write fails as a reset socket does."""

    def writelines(self, data: object) -> None:
        raise ConnectionResetError("connection lost")

    write = writelines

    async def drain(self) -> None:
        raise ConnectionResetError("connection lost")

    def close(self) -> None:
        pass


def test_client_gone_at_the_end_still_frees_its_place(served, requests_log):
    """The client leaves while the end of its audio is written: its place in the pool is given back
    and its request is logged as cancelled (not left counted as in progress)."""
    from hifilite.serve.wyoming_api import Handler

    async def go():
        handler = Handler(served.pool, served.service.settings, asyncio.StreamReader(), _GoneWriter())
        before = served.pool.active
        handler.job = served.pool.admit("wyoming", 12)
        handler.audio_started = True
        try:
            await handler._finish(stopped=False)
        except ConnectionResetError:
            pass
        else:
            raise AssertionError("the failed write was swallowed")
        return before, served.pool.active, handler.job

    before, after, job = served.call(go())
    assert after == before and job is None
    assert [r for r in requests_log("cancelled") if r["chars"] == 12 and r["proto"] == "wyoming"]
