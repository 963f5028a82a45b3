"""`hifilite serve`: speech over HTTP (OpenAI's /v1/audio/speech) and Wyoming (Home Assistant).

    hifilite serve                                   # http://127.0.0.1:5000, wyoming tcp://127.0.0.1:10200
    hifilite serve --host 0.0.0.0 --no-wyoming --workers 4 --threads 1
    curl -s localhost:5000/v1/audio/speech -H 'Content-Type: application/json' \\
         -d '{"model": "tts-1", "voice": "default", "input": "Hello there."}' -o hello.wav

The models are exported to ONNX once (cached, as `hifilite tts` does) and loaded once; every worker
thread shares their ONNX Runtime sessions. SIGTERM or Ctrl+C: requests in progress finish, new
ones get 503. Needs `pip install "hifilite[serve]"`.
"""

from __future__ import annotations

import logging
from typing import Optional

import typer

from ..registry import DEFAULT_ACOUSTIC, DEFAULT_VOCODER
from ._app import app
from ._options import number


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(5000, "--port", min=0, max=65535, help="HTTP port (0: any free port)."),
    wyoming_port: Optional[int] = typer.Option(None, "--wyoming-port", min=0, max=65535,
                                               show_default="10200", help="Wyoming TCP port (0: any free port)."),
    no_wyoming: bool = typer.Option(False, "--no-wyoming", help="Serve HTTP only."),
    model: str = typer.Option(DEFAULT_ACOUSTIC, "--model", "-m",
                              help="Acoustic model: a shipped name, a .safetensors or a training run folder."),
    vocoder: str = typer.Option(DEFAULT_VOCODER, "--vocoder", help="Vocoder name or path."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, max=256,
                                          show_default="the usable CPU cores", help="Synthesis threads."),
    threads: int = typer.Option(1, "--threads", min=1, max=256, help="ONNX Runtime threads per worker."),
    max_chars: int = typer.Option(4096, "--max-chars", min=1, help="Longest text a request may have (413 beyond)."),
    queue: int = typer.Option(32, "--queue", min=0,
                              help="Requests that may wait beyond those the workers hold (503 beyond)."),
    timeout: float = typer.Option(30.0, "--timeout", callback=number(0, None, lo_open=True),
                                  help="Seconds a request may wait for its synthesis in all; also the "
                                  "shutdown's grace."),
) -> None:
    """Serve speech over HTTP and Wyoming until SIGTERM / Ctrl+C."""
    import importlib.util

    from ..errors import ConfigError

    if no_wyoming and wyoming_port is not None:
        raise typer.BadParameter("--wyoming-port and --no-wyoming exclude each other", param_hint="--no-wyoming")
    missing = [m for m in ("fastapi", "uvicorn", "wyoming", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"hifilite serve needs {', '.join(missing)}: pip install 'hifilite[serve]'")
    from ..serve import Settings, serve as run
    from ..serve.settings import usable_cpus

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not no_wyoming and wyoming_port is None:
        wyoming_port = 10200
    settings = Settings(host=host, port=port, wyoming_port=None if no_wyoming else wyoming_port,
                        model=model, vocoder=vocoder, workers=workers or usable_cpus(), threads=threads,
                        max_chars=max_chars, queue=queue, timeout=timeout)
    run(settings)
