"""The HTTP front end: OpenAI's `POST /v1/audio/speech`, `GET /v1/models`, `GET /health`.

Speech is streamed sentence by sentence (chunked transfer) as it is synthesised: `wav` (a header
whose sizes say 'unknown', then 16-bit PCM) or `pcm` (raw s16le mono at `X-Sample-Rate`, 22050 Hz
for the shipped models). The first sentence is ready before the response starts, so a request
that cannot be spoken still gets its status code. Errors are one line of JSON in OpenAI's shape,
`{"error": {"message", "type", "code"}}`: 400 bad JSON, bad parameters or unspeakable text, 413 a
body or text over the limits, 503 (with Retry-After) when the queue is full or the server is
shutting down, 504 when synthesis outlasts the timeout; never a traceback.
"""

from __future__ import annotations

import enum
import json
import logging
from typing import Any, AsyncGenerator, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from .engine import RATE_RANGE, HifiliteError, TextError, catalogue, wav_header
from .settings import Settings
from .work import Busy, Job, Pool, Timeout, new_id

log = logging.getLogger("hifilite.serve")

MODEL_ALIASES = ("hifilite", "tts-1", "tts-1-hd")  # what OpenAI clients send as `model`
VOICE_ALIASES = ("default",)


class ResponseFormat(str, enum.Enum):
    wav = "wav"
    pcm = "pcm"


class SpeechRequest(BaseModel):
    """OpenAI's speech request; unknown fields are ignored, as OpenAI-compatible servers do."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    model: str
    input: str
    voice: str | dict[str, str] = "default"
    response_format: ResponseFormat = ResponseFormat.wav
    speed: float = Field(1.0, ge=RATE_RANGE[0], le=RATE_RANGE[1], allow_inf_nan=False)
    stream_format: str = "audio"


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def error_response(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": " ".join(message.split()), "type": kind, "code": code}},
                        status_code=status, headers=headers)


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"{where}: {first.get('msg', 'invalid')}"


class AudioResponse(StreamingResponse):
    """A streamed response that always releases its job: at the end, on a client that goes away
    (the rest of the text is not synthesised) and on a timeout mid-stream (the connection is
    dropped, so the client sees the audio cut rather than a short file)."""

    def __init__(self, job: Job, first: bytes, rest: AsyncGenerator[bytes, None], media_type: str,
                 headers: dict[str, str]) -> None:
        self.job, self.first, self.rest = job, first, rest
        self.finished = False
        super().__init__(self._body(), media_type=media_type, headers=headers)

    async def _body(self) -> AsyncIterator[bytes]:
        yield self.first
        async for piece in self.rest:
            yield piece
        self.finished = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Timeout:
            self.job.cancel("timeout")
        except OSError:  # the client went away while we were writing
            self.job.cancel()
        finally:
            if not self.finished:
                self.job.cancel()
            await self.rest.aclose()
            self.job.close()


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ApiError(400, "Content-Length is not a number", "bad_request")
        if int(length) > limit:
            raise ApiError(413, f"the request body is {length} bytes; at most {limit} are taken", "body_too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"the request body is over {limit} bytes", "body_too_large")
    return bytes(body)


def create_app(pool: Pool, settings: Settings) -> FastAPI:
    voice = pool.voice
    app = FastAPI(title="hifilite", docs_url=None, redoc_url=None)
    models = {voice.name, *MODEL_ALIASES}
    voices = {voice.name, *VOICE_ALIASES}

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), "not_found" if exc.status_code == 404 else "http_error",
                              getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid request", "invalid_request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s: %s", type(exc).__name__, exc, exc_info=exc)
        return error_response(500, "internal error; the server log has the details", "internal_error")

    @app.get("/health")
    async def health() -> JSONResponse:
        body = {"status": "ok" if pool.accepting else "draining", "model": voice.name, "vocoder": voice.vocoder,
                "sample_rate": voice.sample_rate, "active": pool.active, "capacity": pool.capacity,
                "workers": pool.workers, "served": pool.served}
        return JSONResponse(body, status_code=200 if pool.accepting else 503)

    served = {voice.name, voice.vocoder}
    shipped = catalogue()
    listed = [{"id": m.name, "object": "model", "created": 0, "owned_by": "hifilite", "kind": m.kind,
               "served": m.name in served, "description": m.description} for m in shipped]
    for name in sorted(served - {m.name for m in shipped}):  # a model given by path
        listed.append({"id": name, "object": "model", "created": 0, "owned_by": "hifilite",
                       "kind": "acoustic" if name == voice.name else "vocoder", "served": True, "description": ""})

    @app.get("/v1/models")
    async def list_models() -> JSONResponse:
        return JSONResponse({"object": "list", "data": listed})

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Any:
        request_id = new_id()
        body = await _read_body(request, settings.body_limit)
        try:
            req = SpeechRequest.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"the body is not valid JSON ({exc})", "invalid_json") from None
        except ValidationError as exc:
            raise ApiError(400, _validation_message(exc), "invalid_parameter") from None
        _check(req, models, voices, settings.max_chars)
        try:
            job = pool.admit("http", len(req.input), request_id)
        except Busy as exc:
            headers = {"Retry-After": str(exc.retry_after), "Connection": "close"}
            raise ApiError(503, str(exc), "busy", headers) from None
        pieces = _first_then_rest(job, req, voice.sample_rate)
        try:
            first = await pieces.__anext__()
        except HifiliteError as exc:  # the text checks: empty, control characters, nothing to speak
            await _abandon(job, pieces, "rejected")
            code = "invalid_text" if isinstance(exc, TextError) else "invalid_parameter"
            raise ApiError(400, str(exc), code) from None
        except Timeout as exc:
            await _abandon(job, pieces, "timeout")
            raise ApiError(504, str(exc), "timeout") from None
        except BaseException:
            await _abandon(job, pieces, "error")
            raise
        media = "audio/wav" if req.response_format is ResponseFormat.wav else "audio/pcm"
        headers = {"X-Request-Id": job.id, "X-Sample-Rate": str(voice.sample_rate), "Cache-Control": "no-store"}
        return AudioResponse(job, first, pieces, media, headers)

    return app


async def _abandon(job: Job, pieces: AsyncGenerator[bytes, None], status: str) -> None:
    job.cancel(status)
    await pieces.aclose()
    job.close()


def _check(req: SpeechRequest, models: set[str], voices: set[str], max_chars: int) -> None:
    if req.model not in models:
        raise ApiError(400, f"model {req.model!r} is not served here; use one of {', '.join(sorted(models))}",
                       "model_not_found")
    voice = req.voice.get("id", "") if isinstance(req.voice, dict) else req.voice
    if voice not in voices:
        raise ApiError(400, f"unknown voice {voice!r}; this server speaks with {', '.join(sorted(voices))}",
                       "voice_not_found")
    if req.stream_format != "audio":
        raise ApiError(400, f"stream_format {req.stream_format!r} is not supported; use 'audio'", "invalid_parameter")
    if len(req.input) > max_chars:
        raise ApiError(413, f"input is {len(req.input)} characters; this server takes at most {max_chars}",
                       "input_too_long")


async def _first_then_rest(job: Job, req: SpeechRequest, sample_rate: int) -> AsyncGenerator[bytes, None]:
    """The audio of the request: the first piece carries the wav header when one is asked for."""
    items = await job.script(req.input)
    header = wav_header(sample_rate) if req.response_format is ResponseFormat.wav else b""
    async for pcm in job.audio(items, req.speed):
        yield header + pcm
        header = b""
