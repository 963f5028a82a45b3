"""The HTTP front end with real clients (the OpenAI Python client, httpx) on loopback: audio that
decodes, streaming by sentence, the models list, and every bad input answered with one line of
JSON and the right status, the server serving on afterwards."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from .conftest import LONG_TEXT, TEXT, assert_speech, read_wav

SPEECH = "/v1/audio/speech"


def ok(**kw):
    return {"model": "tts-1", "voice": "default", "input": TEXT, **kw}


def still_serving(url: str) -> None:
    r = httpx.post(url + SPEECH, json=ok(input="Still here."), timeout=30)
    assert r.status_code == 200
    assert_speech(read_wav(r.content)[0], min_seconds=0.3)


def test_openai_client_gets_wav_and_pcm(served):
    client = openai.OpenAI(base_url=served.url + "/v1", api_key="none", max_retries=0, timeout=30)
    wav = client.audio.speech.create(model="tts-1", voice="default", input=TEXT, response_format="wav")
    samples, rate = read_wav(wav.content)
    assert rate == 22050
    assert_speech(samples, min_seconds=1.0)
    with client.audio.speech.with_streaming_response.create(
            model=served.service.voice.name, voice=served.service.voice.name, input=TEXT, response_format="pcm") as r:
        assert r.headers["x-sample-rate"] == "22050"
        pcm = b"".join(r.iter_bytes())
    assert len(pcm) % 2 == 0
    assert abs(len(pcm) // 2 - samples.size) <= 1  # the same speech without the header
    with pytest.raises(openai.BadRequestError, match="unknown voice"):
        client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT)


def test_streamed_sentence_by_sentence(served, requests_log):
    pieces = []
    with httpx.stream("POST", served.url + SPEECH, json=ok(input=LONG_TEXT[:600]), timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.headers["content-type"] == "audio/wav"
        for piece in r.iter_raw():
            pieces.append(piece)
    assert len(pieces) >= 3  # one per sentence (and pause), not one body at the end
    samples, _ = read_wav(b"".join(pieces))
    assert_speech(samples, min_seconds=5)
    record = requests_log("ok")[-1]
    assert record["sentences"] >= 8 and 0 < record["ttfa_ms"] < record["total_ms"]
    assert record["audio_s"] == pytest.approx(samples.size / 22050, abs=0.01)


def test_speed_maps_to_rate(served):
    lengths = {}
    for speed in (1.0, 2.0):
        r = httpx.post(served.url + SPEECH, json=ok(speed=speed, response_format="pcm"), timeout=30)
        assert r.status_code == 200
        lengths[speed] = len(r.content)
    assert 0.35 < lengths[2.0] / lengths[1.0] < 0.7


def test_models_and_health(served):
    models = httpx.get(served.url + "/v1/models").json()
    assert models["object"] == "list"
    by_id = {m["id"]: m for m in models["data"]}
    voice = served.service.voice
    assert by_id[voice.name]["kind"] == "acoustic" and by_id[voice.name]["served"]
    assert by_id[voice.vocoder]["kind"] == "vocoder" and by_id[voice.vocoder]["served"]
    assert {m["kind"] for m in models["data"]} == {"acoustic", "vocoder"}
    health = httpx.get(served.url + "/health").json()
    assert health["status"] == "ok" and health["model"] == voice.name and health["sample_rate"] == 22050


BAD = [
    ("malformed JSON", b'{"model": "tts-1", "input": ', 400, "invalid_json"),
    ("not an object", b'["tts-1"]', 400, "invalid_parameter"),
    ("no input", json.dumps({"model": "tts-1", "voice": "default"}).encode(), 400, "invalid_parameter"),
    ("empty input", json.dumps(ok(input="")).encode(), 400, "invalid_text"),
    ("blank input", json.dumps(ok(input=" \n ")).encode(), 400, "invalid_text"),
    ("control character", json.dumps(ok(input="Hello\x1b[31m there")).encode(), 400, "invalid_text"),
    ("no words", json.dumps(ok(input="!!! ...")).encode(), 400, "invalid_text"),
    ("speed too high", json.dumps(ok(speed=5)).encode(), 400, "invalid_parameter"),
    ("speed not a number", json.dumps(ok(speed="fast")).encode(), 400, "invalid_parameter"),
    ("mp3", json.dumps(ok(response_format="mp3")).encode(), 400, "invalid_parameter"),
    ("unknown voice", json.dumps(ok(voice="nobody")).encode(), 400, "voice_not_found"),
    ("unknown model", json.dumps(ok(model="gpt-99")).encode(), 400, "model_not_found"),
    ("sse streaming", json.dumps(ok(stream_format="sse")).encode(), 400, "invalid_parameter"),
    ("over --max-chars", json.dumps(ok(input="word " * 1000)).encode(), 413, "input_too_long"),
    ("huge body", b'{"model": "tts-1", "input": "' + b"a" * (8 << 20) + b'"}', 413, "body_too_large"),
]


@pytest.mark.parametrize("body,status,code", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requests_get_one_line_json(served, body, status, code):
    r = httpx.post(served.url + SPEECH, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert "\n" not in r.text and "Traceback" not in r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    still_serving(served.url)


def test_huge_chunked_body_is_cut_off(served):
    def body():
        yield b'{"model": "tts-1", "voice": "default", "input": "'
        for _ in range(64):
            yield b"a" * 65536
        yield b'"}'

    r = httpx.post(served.url + SPEECH, content=body(), timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    still_serving(served.url)


def test_unknown_route_and_method(served):
    assert httpx.get(served.url + "/nope").json()["error"]["code"] == "not_found"
    r = httpx.get(served.url + SPEECH)
    assert r.status_code == 405 and "error" in r.json()


def test_client_disconnect_stops_synthesis(served, requests_log):
    with httpx.stream("POST", served.url + SPEECH, json=ok(input=LONG_TEXT), timeout=30) as r:
        assert r.status_code == 200
        first = next(r.iter_raw())
        assert first[:4] == b"RIFF"
    record = requests_log("cancelled")[-1]
    assert record["sentences"] < 40  # the rest of the text was not synthesised
    assert served.pool.active == 0
    still_serving(served.url)


def test_many_concurrent_clients_get_audio(served):
    import concurrent.futures

    def one(i: int) -> int:
        r = httpx.post(served.url + SPEECH, json=ok(input=f"Client {i} says hello."), timeout=30)
        if r.status_code == 200:
            assert_speech(read_wav(r.content)[0], min_seconds=0.3)
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        codes = list(ex.map(one, range(24)))
    assert set(codes) <= {200, 503} and codes.count(200) >= 12
