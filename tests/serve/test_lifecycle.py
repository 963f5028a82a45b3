"""The work model under faults: a full queue (503 + Retry-After), the per-request timeout, a
shutdown with requests in flight (they finish, new ones are refused), SIGTERM to `hifilite serve`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize

from hifilite.cli import main

from .conftest import LONG_TEXT, TEXT, assert_speech, read_wav

SPEECH = "/v1/audio/speech"


def body(text: str = TEXT) -> dict:
    return {"model": "tts-1", "voice": "default", "input": text}


def test_full_queue_gets_503_with_retry_after(spare):
    server = spare(workers=1, queue=0, delay=0.2)
    with httpx.stream("POST", server.url + SPEECH, json=body(LONG_TEXT), timeout=30) as held:
        assert held.status_code == 200
        pieces = held.iter_raw()
        next(pieces)  # admitted and streaming; the one slot is taken (`pieces` must live: closing it disconnects)
        r = httpx.post(server.url + SPEECH, json=body(), timeout=30)
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error"]["code"] == "busy"

        async def wyoming():
            async with AsyncTcpClient("127.0.0.1", server.wyoming_port) as client:
                await client.write_event(Synthesize(text=TEXT).event())
                return await asyncio.wait_for(client.read_event(), 10)

        event = asyncio.run(wyoming())
        assert event.type == "error" and event.data["code"] == "busy"
    r = httpx.post(server.url + SPEECH, json=body(), timeout=30)  # the slot is free again
    assert r.status_code == 200


def test_timeout_is_504(spare):
    server = spare(timeout=0.0001)
    r = httpx.post(server.url + SPEECH, json=body(), timeout=30)
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"
    assert server.pool.active == 0


def test_shutdown_finishes_in_flight_and_refuses_new(spare, requests_log):
    server = spare(workers=1, queue=8, delay=0.02)
    text = LONG_TEXT[:480]

    def speak() -> int:
        with httpx.stream("POST", server.url + SPEECH, json=body(text), timeout=30) as r:
            return len(b"".join(r.iter_bytes())) if r.status_code == 200 else -r.status_code

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        inflight = [ex.submit(speak) for _ in range(4)]
        deadline = time.monotonic() + 10
        while server.pool.active < 4:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        stopping = ex.submit(server.call, server.service.stop(10), 30)
        while server.pool.accepting:
            time.sleep(0.005)
        late = httpx.post(server.url + SPEECH, json=body(), timeout=5)  # still listening while they finish
        sizes = [f.result(30) for f in inflight]
        stopping.result(30)
    assert late.status_code == 503 and late.headers["retry-after"] == "1"
    assert late.json()["error"]["message"] == "the server is shutting down"
    assert all(s > 0 for s in sizes) and len(set(sizes)) == 1  # every in-flight request got all its audio
    finished = [r for r in requests_log("ok") if r["chars"] == len(text)]
    assert len(finished) == 4
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/health", timeout=2)


def test_sigterm_to_the_command(served, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "hifilite", "serve", "--port", "0", "--no-wyoming", "--workers", "1"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"serving .* http://127\.0\.0\.1:(\d+)", line)
            port = int(m.group(1)) if m else None
            assert line or proc.poll() is None, "the server exited"
        url = f"http://127.0.0.1:{port}"
        with httpx.stream("POST", url + SPEECH, json=body(LONG_TEXT[:600]), timeout=30) as r:
            pieces = r.iter_raw()
            first = next(pieces)
            proc.send_signal(signal.SIGTERM)
            data = first + b"".join(pieces)
        samples, _ = read_wav(data)
        assert_speech(samples, min_seconds=5)  # the request in flight finished
        assert proc.wait(30) == 0
        log = proc.stderr.read()
        assert "SIGTERM" in log and "status=ok" in log and "Traceback" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_command_line_checks(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--no-wyoming", "--wyoming-port", "10300"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--workers", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--timeout", "nan"])
    assert exc.value.code == 2
