"""A hifilite server on loopback for the serve tests: the shipped default models, exported once per
session into a temporary HIFILITE_CACHE, served from a background event loop."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from typing import Any, Coroutine, Iterator

import numpy as np
import pytest
import soundfile as sf

from hifilite.serve import Settings
from hifilite.serve.engine import Voice
from hifilite.serve.server import Service

TEXT = "Hello there. It is 5:30 and the sun is out."
LONG_TEXT = " ".join(f"This is sentence number {i} of a long text that keeps going." for i in range(1, 41))


class Running:
    """A Service in its own thread and event loop."""

    def __init__(self, settings: Settings, voice: Voice | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="serve-test-loop", daemon=True)
        self.thread.start()
        self.service = Service(settings, voice)
        self.call(self.service.start(), timeout=180)
        self.url = f"http://127.0.0.1:{self.service.http_port}"
        self.wyoming_port = self.service.wyoming_port

    @property
    def pool(self) -> Any:
        return self.service.pool

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, grace: float | None = 5) -> None:
        try:
            self.call(self.service.stop(grace), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def loopback(**kw: Any) -> Settings:
    return Settings(**{"host": "127.0.0.1", "port": 0, "wyoming_port": 0, "workers": 2, "timeout": 20, **kw})


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HIFILITE_CACHE", str(tmp_path_factory.mktemp("hifilite-cache")))
        server = Running(loopback())
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def spare(served: Running) -> Iterator[Any]:
    """Start further servers over the session's loaded voice (no second export or load), each
    sentence `delay` s slower if asked."""
    started: list[Running] = []

    def start(delay: float = 0.0, **kw: Any) -> Running:
        voice = served.service.voice
        server = Running(loopback(**kw), voice=SlowVoice(voice, delay) if delay else voice)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=2)


class SlowVoice:
    """The session's voice, `delay` s slower per sentence: requests that stay in flight a while."""

    def __init__(self, voice: Voice, delay: float) -> None:
        self.voice, self.delay = voice, delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self.voice, name)

    def sentence(self, sentence: str, rate: float = 1.0) -> bytes:
        time.sleep(self.delay)
        return self.voice.sentence(sentence, rate)


@pytest.fixture
def requests_log(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """The structured request records the server logs (from any thread); `status=` waits (up to
    10 s: a request's line is written once its response has gone) for records with that status."""
    caplog.set_level(logging.INFO, logger="hifilite.serve")

    def records(status: str | None = None) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while True:
            found = [r.request for r in caplog.records if hasattr(r, "request")]
            found = [r for r in found if status is None or r["status"] == status]
            if found or status is None or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    yield records


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(io.BytesIO(data), dtype="int16")
    return audio, rate


def assert_speech(samples: np.ndarray, rate: int = 22050, min_seconds: float = 0.5) -> None:
    assert samples.ndim == 1 and samples.size >= min_seconds * rate
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert 100 < rms < 20000, rms  # neither silence nor clipping noise
