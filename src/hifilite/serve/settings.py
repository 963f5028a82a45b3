"""The server's settings, with the defaults `hifilite serve` starts with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .engine import DEFAULT_ACOUSTIC, DEFAULT_VOCODER


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class Settings:
    """host/port: HTTP; wyoming_port None: no Wyoming server; port 0: any free port. workers:
    synthesis threads (each runs ONNX Runtime with `threads` intra-op threads); at most
    `workers + queue` requests are admitted at once, the rest get 503 (Wyoming: an error event).
    timeout: seconds a request may wait for its synthesis in all; also the shutdown's grace."""

    host: str = "127.0.0.1"
    port: int = 5000
    wyoming_port: int | None = 10200
    model: str = DEFAULT_ACOUSTIC
    vocoder: str = DEFAULT_VOCODER
    workers: int = field(default_factory=usable_cpus)
    threads: int = 1
    max_chars: int = 4096
    queue: int = 32
    timeout: float = 30.0
    retry_after: int = 1

    @property
    def body_limit(self) -> int:
        """Bytes of a request body: the text at its longest, every character JSON-escaped (\\uXXXX)."""
        return 16384 + 6 * self.max_chars
