"""`hifilite serve`: speech over HTTP (OpenAI's `/v1/audio/speech`) and Wyoming (Home Assistant),
streamed sentence by sentence from one shared set of ONNX Runtime sessions.

    from hifilite.serve import Settings, serve
    serve(Settings(port=5000, wyoming_port=10200, workers=2, threads=1))

Modules: `engine` (everything taken from the rest of hifilite), `work` (the worker pool, admission,
cancellation, logs), `http_api`, `wyoming_api` and `segment` (the front ends), `server` (both in one
event loop, graceful shutdown). Needs `pip install "hifilite[serve]"`.
"""

from .settings import Settings

__all__ = ["Settings", "serve", "Service"]


def __getattr__(name: str):  # the servers import fastapi, uvicorn and wyoming: only when used
    if name in ("serve", "Service"):
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
