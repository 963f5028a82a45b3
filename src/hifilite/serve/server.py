"""Both front ends in one event loop over one synthesis pool, and their shutdown.

    service = Service(Settings(port=0, wyoming_port=0))
    await service.start()              # binds, loads the models once, warms up, serves
    service.http_port, service.wyoming_port
    await service.stop()               # graceful: in-flight requests finish, new ones get 503

`serve(settings)` runs a service until SIGTERM or SIGINT, which start the graceful stop (a second
SIGINT stops at once). The sockets are bound before the models load, so a port in use fails fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from typing import Any, Iterator

import uvicorn

from .engine import ConfigError, Voice
from .http_api import create_app
from .settings import Settings
from .work import Pool
from .wyoming_api import WyomingService

log = logging.getLogger("hifilite.serve")


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class Service:
    def __init__(self, settings: Settings, voice: Voice | None = None) -> None:
        self.settings = settings
        self.voice = voice
        self.pool: Pool | None = None
        self.http: _Uvicorn | None = None
        self.wyoming: WyomingService | None = None
        self.http_port = self.wyoming_port = 0
        self._serving: asyncio.Task[Any] | None = None
        self._stopped = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        s = self.settings
        http_sock = bind(s.host, s.port)
        wyoming_sock = bind(s.host, s.wyoming_port) if s.wyoming_port is not None else None
        self.http_port = http_sock.getsockname()[1]
        self.wyoming_port = wyoming_sock.getsockname()[1] if wyoming_sock is not None else 0
        try:
            if self.voice is None:
                self.voice = await asyncio.to_thread(Voice.load, s.model, s.vocoder, s.threads)
            await asyncio.to_thread(self.voice.warm_up)
        except BaseException:
            http_sock.close()
            if wyoming_sock is not None:
                wyoming_sock.close()
            raise
        self.pool = Pool(self.voice, s.workers, s.queue, s.timeout, s.retry_after)
        config = uvicorn.Config(create_app(self.pool, s), log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=int(s.timeout) + 1, server_header=False, ws="none",
                                http="h11")
        self.http = _Uvicorn(config)
        self._serving = asyncio.create_task(self.http.serve(sockets=[http_sock]))
        while not self.http.started:
            if self._serving.done():  # startup failed: its exception, here
                self._serving.result()
                raise RuntimeError("the HTTP server did not start")
            await asyncio.sleep(0.01)
        if wyoming_sock is not None:
            self.wyoming = WyomingService(self.pool, s)
            await self.wyoming.start(wyoming_sock)
        log.info("serving %s + %s: http://%s:%d%s; workers=%d threads=%d queue=%d max_chars=%d",
                 self.voice.name, self.voice.vocoder, s.host, self.http_port,
                 f", wyoming tcp://{s.host}:{self.wyoming_port}" if wyoming_sock is not None else "",
                 s.workers, s.threads, s.queue, s.max_chars)

    async def stop(self, grace: float | None = None) -> None:
        """Refuse new requests (503 / error events), let the admitted ones finish (up to `grace` s,
        default the request timeout plus a second), then close both servers and the pool."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        grace = self.settings.timeout + 1 if grace is None else grace
        try:
            if self.pool is not None:
                log.info("stopping: %d request(s) in progress", self.pool.active)
                if not await self.pool.drain(grace):
                    log.warning("stopping: %d request(s) still running after %g s", self.pool.active, grace)
            if self.wyoming is not None:
                await self.wyoming.stop(0.5)
            if self.http is not None and self._serving is not None:
                self.http.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await self._serving
            if self.pool is not None:
                self.pool.close()
            log.info("stopped")
        finally:
            self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def run(self) -> None:
        """Start, serve until SIGTERM / SIGINT, stop gracefully (a second SIGINT: at once)."""
        loop = asyncio.get_running_loop()
        stop_tasks: list[asyncio.Task[None]] = []
        early: list[signal.Signals] = []

        def on_signal(sig: signal.Signals) -> None:
            if self._stopping and sig != signal.SIGINT:
                return
            if self._stopping:
                log.warning("second interrupt: stopping now")
                if self.pool is not None:
                    self.pool.give_up_waiting()
                if self.http is not None:
                    self.http.force_exit = True
                return
            log.info("%s: finishing the requests in progress, refusing new ones", sig.name)
            if self._serving is None:  # still starting: stop once started
                early.append(sig)
            else:
                stop_tasks.append(loop.create_task(self.stop()))

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal, sig)
        await self.start()
        if early:
            await self.stop()
        stopped = asyncio.ensure_future(self._stopped.wait())
        assert self._serving is not None
        await asyncio.wait([stopped, self._serving], return_when=asyncio.FIRST_COMPLETED)
        if not self._stopped.is_set():  # the HTTP server ended by itself (it failed)
            await self.stop(0)
        stopped.cancel()
        for task in stop_tasks:
            await task


def serve(settings: Settings) -> None:
    """Run the service in this thread until SIGTERM / SIGINT."""
    asyncio.run(Service(settings).run())
