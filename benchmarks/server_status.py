"""The server under load on loopback: ``GET /status/{id}`` beside a bare FastAPI endpoint, and
``POST /generate`` accepted jobs/s into SQLite.

Run: python benchmarks/server_status.py [--seconds 10] [--connections 32]
Targets (issue 8): GET /status >= 1,500 req/s, p99 <= 50 ms, and at most 2x the bare
endpoint's cost (server CPU per request). Measured for completed jobs (served from memory:
they never change) and for pending ones (a database read per request).

Three processes, all on 127.0.0.1: ``contentgen serve`` (tokens checked, SQLite in a
temporary CONTENTGEN_HOME, ``--workers-in-process 0`` so accepted jobs stay queued), a bare
FastAPI app on the same uvicorn stack (uvloop + httptools, one process, one route returning a
small JSON object), and the load generator: a bounded asyncio HTTP/1.1 keep-alive client
(``--connections`` connections, each sending its next request when the answer is in) that runs
for ``--seconds`` per target and stops by itself. The servers' CPU time is read from /proc
before and after each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SECRET = "benchmark-secret-" + "x" * 32
TOPIC = "Solar energy benefits for small offices"
TARGET_RPS, TARGET_P99_MS, TARGET_COST_RATIO = 1500.0, 50.0, 2.0


# --- the load generator (a separate process) -----------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive connection sending requests back to back; records each latency."""

    def __init__(self, requests: list[bytes], stats: dict[str, Any], deadline: float) -> None:
        self.requests, self.stats, self.deadline = requests, stats, deadline
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.i = 0
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.requests[self.i % len(self.requests)])  # type: ignore[attr-defined]
        self.i += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end])
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < head_end + 4 + length:
                return
            status = int(head[9:12])
            del self.buffer[: head_end + 4 + length]
            self.stats["latencies"].append(time.perf_counter() - self.sent_at)
            self.stats["statuses"][status] = self.stats["statuses"].get(status, 0) + 1
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _load(host: str, port: int, requests: list[bytes], seconds: float,
                connections: int) -> dict[str, Any]:  # fmt: skip
    loop = asyncio.get_running_loop()
    stats: dict[str, Any] = {"latencies": [], "statuses": {}}
    started = time.perf_counter()
    deadline = started + seconds
    conns = []
    for c in range(connections):
        share = requests[c::connections] or requests
        _, proto = await loop.create_connection(lambda s=share: _Conn(s, stats, deadline),
                                                host, port)  # fmt: skip
        conns.append(proto)
    await asyncio.wait_for(asyncio.gather(*(p.done for p in conns)), seconds + 30)
    wall = time.perf_counter() - started
    lat = sorted(stats["latencies"])
    n = len(lat)
    return {
        "requests": n, "wall": wall, "rps": n / wall, "statuses": stats["statuses"],
        "p50_ms": 1000 * lat[n // 2] if n else None,
        "p99_ms": 1000 * lat[min(n - 1, int(n * 0.99))] if n else None,
    }  # fmt: skip


def load_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    requests = [r.encode("latin-1") for r in spec["requests"]]
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(_load(spec["host"], spec["port"], requests, spec["seconds"],
                                  spec["connections"]))  # fmt: skip
    print(json.dumps(result))


# --- the bare FastAPI endpoint (a separate process) ----------------------------------------


def bare_main() -> None:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/status/{job_id}")
    async def status(job_id: str) -> JSONResponse:
        return JSONResponse({"job_id": job_id, "status": "completed"})

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                            loop="uvloop", http="httptools")  # fmt: skip
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


# --- orchestration -------------------------------------------------------------------------


def _start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return proc, int(match.group(1))
    raise SystemExit(f"{cmd} did not start")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(pid: int, port: int, requests: list[str], seconds: float, connections: int,
             tmp: Path) -> dict[str, Any]:  # fmt: skip
    spec = tmp / "spec.json"
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": port, "requests": requests,
                                "seconds": seconds, "connections": connections}))  # fmt: skip
    cpu_before = _cpu_seconds(pid)
    done = subprocess.run([sys.executable, __file__, "--load", str(spec)], capture_output=True,
                          text=True, timeout=seconds + 120, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    result["server_cpu_ms_per_req"] = 1000 * (_cpu_seconds(pid) - cpu_before) / max(
        1, result["requests"])
    return result


def _get(path: str, token: str | None = None) -> str:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"


def _post(path: str, body: dict[str, Any], token: str) -> str:
    data = json.dumps(body)
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n{data}")


async def _seed(home: Path, jobs: int) -> tuple[list[str], list[str], str]:
    """Completed jobs and pending ones (nobody runs them: the server has no workers)."""
    from contentgen.client.local import LocalClient
    from contentgen.server.security import create_token
    from contentgen.settings import Settings

    settings = Settings(home=home, model="fake/writer")
    async with LocalClient.from_settings(settings) as cg:
        acme = await cg.add_client("acme")
        done = [str((await cg.generate(topic=f"{TOPIC} {i}", client="acme")).id)
                for i in range(jobs)]  # fmt: skip
        cg.run_submitted = False
        pending = [str(await cg.submit(topic=f"{TOPIC} {i}", client="acme"))
                   for i in range(jobs)]  # fmt: skip
    return done, pending, create_token(SECRET, clients=[acme.id])


def _line(name: str, r: dict[str, Any]) -> str:
    return (f"{name:<24} {r['rps']:>8.0f} req/s  p50 {r['p50_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  server cpu {r['server_cpu_ms_per_req']:.3f} ms/req  "
            f"statuses {r['statuses']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=50, help="completed jobs to read")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        home = tmp / "home"
        ids, pending, token = asyncio.run(_seed(home, args.jobs))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTGEN_")}
        env.update(CONTENTGEN_HOME=str(home), CONTENTGEN_JWT_SECRET=SECRET,
                   CONTENTGEN_MODEL="fake/writer", CONTENTGEN_LOG_LEVEL="warning")  # fmt: skip
        ours, ours_port = _start([sys.executable, "-m", "contentgen", "serve", "--port", "0",
                                  "--workers-in-process", "0"], env)  # fmt: skip
        bare, bare_port = _start([sys.executable, __file__, "--bare"], env)
        try:
            status_reqs = [_get(f"/status/{i}", token) for i in ids]
            pending_reqs = [_get(f"/status/{i}", token) for i in pending]
            bare_reqs = [_get(f"/status/{i}") for i in ids]
            warm = min(2.0, args.seconds)
            _measure(bare.pid, bare_port, bare_reqs, warm, args.connections, tmp)
            _measure(ours.pid, ours_port, status_reqs, warm, args.connections, tmp)
            bare_r = _measure(bare.pid, bare_port, bare_reqs, args.seconds, args.connections,
                              tmp)  # fmt: skip
            ours_r = _measure(ours.pid, ours_port, status_reqs, args.seconds, args.connections,
                              tmp)  # fmt: skip
            pend_r = _measure(ours.pid, ours_port, pending_reqs, args.seconds,
                              args.connections, tmp)  # fmt: skip
            posts = [_post("/generate", {"topic": f"{TOPIC} {i}", "content_type": "blog",
                                         "client_id": "acme", "keywords": ["solar"]}, token)
                     for i in range(200)]  # fmt: skip
            gen_r = _measure(ours.pid, ours_port, posts, args.seconds, args.connections, tmp)
        finally:
            for proc in (ours, bare):
                proc.terminate()
                proc.wait(30)
    print(f"loopback, {args.connections} keep-alive connections, {args.seconds:.0f} s per run "
          f"(server: one uvicorn process; load: one asyncio process)")  # fmt: skip
    print(_line("bare FastAPI endpoint", bare_r))
    print(_line("GET /status (completed)", ours_r))
    print(_line("GET /status (pending)", pend_r))
    print(_line("POST /generate", gen_r))
    for name, r in (("completed", ours_r), ("pending", pend_r)):
        ratio_cost = r["server_cpu_ms_per_req"] / bare_r["server_cpu_ms_per_req"]
        ratio_rps = bare_r["rps"] / r["rps"]
        met = (r["rps"] >= TARGET_RPS and r["p99_ms"] <= TARGET_P99_MS
               and ratio_cost <= TARGET_COST_RATIO)  # fmt: skip
        print(f"GET /status ({name}) vs bare: {ratio_cost:.2f}x server cpu per request, "
              f"{ratio_rps:.2f}x fewer req/s  (targets: >= {TARGET_RPS:.0f} req/s, "
              f"p99 <= {TARGET_P99_MS:.0f} ms, <= {TARGET_COST_RATIO:.0f}x: "
              f"{'met' if met else 'NOT met'})")  # fmt: skip
    print(f"POST /generate: {gen_r['rps']:.0f} jobs/s accepted into SQLite "
          f"({gen_r['statuses'].get('200', 0)} accepted)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--load":
        load_main(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_main()
    else:
        main()
