"""Acceptance (issue 8, items 4, 5 and 7; issue 7, point 7) with real processes on one SQLite
file and real HTTP to the fake provider, which counts the calls it gets."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contentgen.client.local import LocalClient
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

pytestmark = pytest.mark.slow

TOPIC = "Solar panels for small offices"
LEASE = "1.5"


class World:
    """The database file, the processes started on it (stopped after the test)."""

    def __init__(self, home: Path, provider: FakeOpenAIServer) -> None:
        self.db = home / "contentgen.db"
        self.provider = provider
        self.logs = home.parent / "logs"
        self.logs.mkdir(exist_ok=True)
        self.procs: list[subprocess.Popen[str]] = []
        self._logs: dict[int, Path] = {}

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        log = self.logs / f"{len(self.procs)}-{args[0]}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "contentgen", *args], stdout=subprocess.PIPE,
            stderr=log.open("w"), text=True, env=dict(os.environ),
        )  # fmt: skip
        self.procs.append(proc)
        self._logs[proc.pid] = log
        return proc

    def stderr(self, proc: subprocess.Popen[str]) -> str:
        return self._logs[proc.pid].read_text(encoding="utf-8")

    def queue(self, n: int) -> list[str]:
        async def main() -> list[str]:
            async with LocalClient.from_settings(Settings()) as cg:
                cg.run_submitted = False
                return [str(await cg.submit(topic=f"{TOPIC} {i}")) for i in range(n)]

        return asyncio.run(main())

    def query(self, sql: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def statuses(self) -> Counter[str]:
        rows = self.query("SELECT status, count(*) FROM jobs GROUP BY status")
        return Counter({str(s): int(n) for s, n in rows})  # type: ignore[call-overload]

    def usage_rows(self) -> int:
        return int(self.query("SELECT count(*) FROM llm_usage")[0][0])  # type: ignore[call-overload]

    def duplicated_usage(self) -> list[tuple[object, ...]]:
        return self.query("SELECT job_id, count(*) FROM llm_usage GROUP BY job_id "
                          "HAVING count(*) > 1")  # fmt: skip

    @property
    def calls(self) -> int:
        return self.provider.requests_by_model["gpt-4o-mini"]


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for: {what}")
        time.sleep(0.1)


@pytest.fixture
def world(
    provider: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv("CONTENTGEN_LEASE_SECONDS", LEASE)
    monkeypatch.setenv("CONTENTGEN_BREAKER_FAILURES", "1000")
    w = World(Path(os.environ["CONTENTGEN_HOME"]), provider)
    yield w
    for proc in w.procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def stop(world: World, *procs: subprocess.Popen[str]) -> None:
    """SIGTERM: each must stop claiming, finish or hand back its jobs and exit 0."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(20) == 0, world.stderr(proc)


def test_four_workers_and_a_server_run_300_jobs_exactly_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTGEN_LEASE_SECONDS", "30")  # the default
    world.queue(300)
    workers = [world.spawn("worker", "--concurrency", "4") for _ in range(4)]
    server = world.spawn("serve", "--port", "0", "--no-auth", "--workers-in-process", "2")
    wait_until(lambda: world.statuses()["completed"] == 300, 60, "300 completed jobs")
    stop(world, *workers, server)
    assert world.calls == 300, (world.usage_rows(), [world.stderr(p)[-3000:] for p in world.procs])
    assert world.usage_rows() == 300 and world.duplicated_usage() == []
    assert world.statuses() == Counter(completed=300)


def test_a_killed_worker_s_jobs_complete_in_another_after_the_lease(world: World) -> None:
    world.provider.delay = 3.0  # calls in flight when the worker dies
    world.queue(4)
    first = world.spawn("worker", "--concurrency", "4")
    wait_until(lambda: world.calls >= 4, 20, "the first worker's 4 calls in flight")
    assert world.statuses() == Counter(in_progress=4)
    first.kill()  # SIGKILL: no release, no clean-up
    first.wait(10)
    world.provider.delay = 0.0
    second = world.spawn("worker", "--concurrency", "4")
    wait_until(lambda: world.statuses()["completed"] == 4, 30, "4 completed jobs")
    stop(world, second)
    assert world.usage_rows() == 4 and world.duplicated_usage() == []
    attempts = world.query("SELECT attempt, outcome FROM job_attempts ORDER BY attempt")
    assert Counter(o for _a, o in attempts) == Counter(lost=4, completed=4)


def test_a_killed_generate_s_job_is_completed_by_a_worker(world: World) -> None:
    world.provider.delay = 30.0
    generate = world.spawn("generate", "--topic", TOPIC)
    wait_until(lambda: world.calls >= 1, 20, "generate's call in flight")
    generate.kill()
    generate.wait(10)
    assert world.statuses() == Counter(in_progress=1)  # left behind, under its lease
    world.provider.delay = 0.0
    worker = world.spawn("worker")
    wait_until(lambda: world.statuses()["completed"] == 1, 30, "the job completed")
    stop(world, worker)
    assert world.usage_rows() == 1


def test_ctrl_c_cancels_generate_at_once(world: World) -> None:
    """Issue 7, point 7: one Ctrl-C during the model call stops it now (not after the call and
    its retries), the job ends cancelled, exit 130."""
    world.provider.delay = 60.0
    generate = world.spawn("generate", "--topic", TOPIC)
    wait_until(lambda: world.calls >= 1, 20, "generate's call in flight")
    generate.send_signal(signal.SIGINT)
    assert generate.wait(15) == 130, world.stderr(generate)
    assert "cancelled" in world.stderr(generate)
    assert world.statuses() == Counter(cancelled=1)
    assert world.calls == 1  # no retry after the interrupt


def test_a_job_cancelled_from_the_cli_mid_call_keeps_its_paid_attempt(world: World) -> None:
    """Issue 7, point 5 (every paid attempt is recorded, whatever the job's outcome): the
    worker's first call fails (paid), its retry hangs; `contentgen jobs cancel` from another
    process fences the worker out, which stops the call and still stores the failed attempt."""
    world.provider.fail_next(1, 503)
    world.provider.hang_next(1)
    (job_id,) = world.queue(1)
    worker = world.spawn("worker")
    wait_until(lambda: world.calls >= 2, 20, "the worker's retry in flight")
    cancel = subprocess.run([sys.executable, "-m", "contentgen", "jobs", "cancel", job_id],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert cancel.returncode == 0, cancel.stderr
    wait_until(lambda: "fenced_usage_stored" in world.stderr(worker), 20, "the fenced write")
    stop(world, worker)
    assert world.statuses() == Counter(cancelled=1)
    rows = world.query("SELECT attempt, error IS NOT NULL FROM llm_usage")
    assert rows == [(1, 1)], world.stderr(worker)
    assert world.calls == 2  # no call after the cancel


def test_two_batches_on_one_out_dir(world: World, tmp_path: Path) -> None:
    """Two `batch --resume` runs started at once into one --out: one is refused, every row is
    paid once and appears once in results.csv (identical rows included)."""
    world.provider.delay = 1.0
    path = tmp_path / "in.csv"
    rows = [f"{TOPIC} {i},blog" for i in range(7)] + [f"{TOPIC} again,blog"] * 3
    path.write_text("topic,content_type\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    runs = [world.spawn("batch", str(path), "--out", str(out), "--resume", "-j", "2", "-q")
            for _ in range(2)]  # fmt: skip
    codes = sorted(proc.wait(60) for proc in runs)
    assert codes == [0, 1], [world.stderr(p) for p in runs]
    refused = next(p for p in runs if p.returncode == 1)
    assert "another batch is writing" in world.stderr(refused)
    assert world.calls == len(rows)
    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        results = list(csv.DictReader(handle))
    assert sorted(int(r["row"]) for r in results) == list(range(2, 2 + len(rows)))
    assert {r["status"] for r in results} == {"completed"}
    assert len({r["job_id"] for r in results}) == len(rows)
