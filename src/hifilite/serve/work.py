"""The synthesis pool: worker threads sharing one voice, admission with a bound, per-request
deadline and cancellation, one log line per request.

A request is admitted while fewer than `workers + queue` are (`Pool.admit`; else `Busy`, which the
front ends answer with 503 / an error event). Its work goes to the threads one sentence at a time
through a priority queue: a request's first sentence goes before other requests' later ones (their
earlier audio is still playing), so time to first audio stays low under load. Between sentences
the request's cancel flag is read: a client that went away stops its synthesis there. `timeout` is
what a request may wait for its synthesis in all (time spent sending to a slow reader is not
counted); past it, `Timeout`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import queue
import threading
import uuid
from typing import Any, AsyncIterator, Callable

from ..measure import Stopwatch
from .engine import Voice

log = logging.getLogger("hifilite.serve")

_FIRST, _LATER, _STOP = 0, 1, 2  # priorities; _STOP after all queued work


class Busy(Exception):
    """No room for another request (or the server is shutting down)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Timeout(Exception):
    """The request waited longer than the server's timeout for its synthesis."""


class Cancelled(Exception):
    """The request was cancelled (its client went away) before this piece was synthesised."""


class Pool:
    def __init__(self, voice: Voice, workers: int, queue_size: int, timeout: float, retry_after: int = 1) -> None:
        self.voice, self.workers, self.timeout, self.retry_after = voice, workers, timeout, retry_after
        self.capacity = workers + queue_size
        self.active = 0
        self.accepting = True
        self.served = 0
        self._seq = itertools.count()
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._threads = [threading.Thread(target=self._work, name=f"hifilite-synth-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while True:
            _, _, fn, args, future = self._queue.get()
            if fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the awaiting request
                future.set_exception(exc)

    def submit(self, first: bool, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((_FIRST if first else _LATER, next(self._seq), fn, args, future))
        return asyncio.wrap_future(future)

    def admit(self, proto: str, chars: int, request_id: str | None = None) -> Job:
        """A new request's job; `Busy` when the server is full or shutting down. Event loop only."""
        if not self.accepting:
            self._reject(proto, chars, request_id, "draining")
            raise Busy("the server is shutting down", self.retry_after)
        if self.active >= self.capacity:
            self._reject(proto, chars, request_id, "busy")
            raise Busy(f"the server is busy ({self.active} requests in progress); retry after {self.retry_after} s",
                       self.retry_after)
        self.active += 1
        self._idle.clear()
        return Job(self, proto, chars, request_id)

    def _reject(self, proto: str, chars: int, request_id: str | None, status: str) -> None:
        log.info("request id=%s proto=%s status=%s chars=%d", request_id or new_id(), proto, status, chars,
                 extra={"request": {"id": request_id, "proto": proto, "status": status, "chars": chars}})

    def _release(self) -> None:
        self.active -= 1
        self.served += 1
        if self.active == 0:
            self._idle.set()

    def give_up_waiting(self) -> None:
        """End a `drain` now (a second Ctrl+C): requests still running are cut off."""
        self.accepting = False
        self._idle.set()

    async def drain(self, grace: float) -> bool:
        """Refuse new requests and wait up to `grace` s for the admitted ones; whether all finished."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
            return True
        except asyncio.TimeoutError:
            return False

    def close(self) -> None:
        """Stop the threads once the queued work is done (they are daemons: nothing blocks exit)."""
        for _ in self._threads:
            self._queue.put((_STOP, next(self._seq), None, (), None))


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class Job:
    """One request: its place in the pool, cancel flag, deadline and the numbers it logs."""

    def __init__(self, pool: Pool, proto: str, chars: int, request_id: str | None = None) -> None:
        self.pool, self.proto, self.chars = pool, proto, chars
        self.id = request_id or new_id()
        self.clock = Stopwatch().__enter__()  # runs for the request's whole life
        self.cancelled = threading.Event()
        self.status = "ok"
        self.sentences = self.samples = 0
        self.first_audio: float | None = None
        self.waited = 0.0
        self.closed = False

    async def _run(self, first: bool, fn: Callable[..., Any], *args: Any) -> Any:
        budget = self.pool.timeout - self.waited
        if budget <= 0:
            raise Timeout(f"synthesis took longer than the server's timeout ({self.pool.timeout:g} s)")
        future = self.pool.submit(first, self._guarded, fn, args)
        with Stopwatch() as wait:
            try:
                return await asyncio.wait_for(future, budget)
            except asyncio.TimeoutError:
                self.cancelled.set()
                raise Timeout(f"synthesis took longer than the server's timeout ({self.pool.timeout:g} s)") from None
            finally:
                self.waited += wait.seconds

    def _guarded(self, fn: Callable[..., Any], args: tuple) -> Any:
        if self.cancelled.is_set():
            raise Cancelled()
        return fn(*args)

    async def script(self, text: str) -> list[str | float]:
        """The text's sentences and pauses, checked in a worker thread (TextError if unspeakable)."""
        return await self._run(True, self.pool.voice.script, text)

    async def audio(self, items: list[str | float], rate: float = 1.0) -> AsyncIterator[bytes]:
        """PCM for each sentence and pause, each as soon as it is ready; stops when cancelled."""
        voice = self.pool.voice
        for item in items:
            if self.cancelled.is_set():
                return
            if isinstance(item, float):
                pcm = voice.silence(item)
            else:
                try:
                    pcm = await self._run(self.sentences == 0, voice.sentence, item, rate)
                except Cancelled:
                    return
                self.sentences += 1
            if self.first_audio is None:
                self.first_audio = self.clock.seconds
            self.samples += len(pcm) // 2
            yield pcm

    def cancel(self, status: str = "cancelled") -> None:
        """No more synthesis for this request (what is running finishes, nothing new starts)."""
        self.cancelled.set()
        if self.status == "ok":
            self.status = status

    def close(self, status: str | None = None) -> None:
        """Leave the pool and write the request's log line (once)."""
        if self.closed:
            return
        self.closed = True
        if status is not None and self.status == "ok":
            self.status = status
        self.cancelled.set()
        self.pool._release()
        total = self.clock.seconds
        audio_s = self.samples / self.pool.voice.sample_rate
        ttfa = None if self.first_audio is None else round(self.first_audio * 1000, 1)
        record = {"id": self.id, "proto": self.proto, "status": self.status, "chars": self.chars,
                  "sentences": self.sentences, "audio_s": round(audio_s, 3), "ttfa_ms": ttfa,
                  "total_ms": round(total * 1000, 1)}
        log.log(logging.INFO if self.status in ("ok", "cancelled") else logging.WARNING,
                "request id=%s proto=%s status=%s chars=%d sentences=%d audio_s=%.2f ttfa_ms=%s total_ms=%.1f",
                self.id, self.proto, self.status, self.chars, self.sentences, audio_s,
                "-" if ttfa is None else f"{ttfa:.1f}", total * 1000, extra={"request": record})
