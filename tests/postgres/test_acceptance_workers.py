"""Issue 9's acceptance: several worker processes on one PostgreSQL database.

(2) 4 processes, 500 jobs: every job completed exactly once (provider calls = usage rows = 500).
(3) A worker SIGKILLed while it holds jobs: another completes them after the lease expires, no
    usage row twice; the same when a worker's database connections are terminated mid-job.
(4) 60 requests/minute shared through Redis by 3 workers: a one-minute run sends at most 60.

Repair rounds of the quality writer are off (CONTENTGEN_REPAIR_ROUNDS=0), so a job is exactly
one provider call and "provider calls = usage rows = jobs" can be counted. The workers are real
``contentgen worker`` processes (stopped with SIGTERM once the database
counts every job finished); the provider is the local fake server, counting requests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contentgen.models import Client, Job
from contentgen.storage.postgres import PostgresStorage
from contentgen.storage.postgres_conn import connect
from contentgen.testing import FakeOpenAIServer, run_in_thread
from storage.factories import make_job

WORKER = [sys.executable, "-m", "contentgen", "worker"]


def _env(database_url: str, api_base: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTGEN_")}
    env.update({
        "CONTENTGEN_DATABASE_URL": database_url, "CONTENTGEN_API_BASE": api_base,
        "CONTENTGEN_API_KEY": "sk-test", "CONTENTGEN_MODEL": "openai/gpt-4o-mini",
        "CONTENTGEN_RETRY_WAIT": "0", "CONTENTGEN_HOME": extra.pop("home", "/tmp"),
        "CONTENTGEN_REPAIR_ROUNDS": "0",
        **extra,
    })  # fmt: skip
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*WORKER, *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def _stop(procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """SIGTERM (a worker's graceful stop), then every worker must exit 0."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]


async def _wait_finished(url: str, total: int, procs: list[subprocess.Popen[bytes]],
                         timeout: float = 300) -> None:  # fmt: skip
    """Until the database counts ``total`` finished jobs (a worker that exits early fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = await _counts(url)
        if sum(counts.get(s, 0) for s in ("completed", "failed", "cancelled")) >= total:
            return
        for proc in procs:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise AssertionError(f"a worker exited ({proc.returncode}): {err[-3000:]}")
        await asyncio.sleep(0.1)
    raise AssertionError(f"jobs still unfinished after {timeout} s: {await _counts(url)}")


def _run_until_done(url: str, total: int, procs: list[subprocess.Popen[bytes]]) -> None:
    try:
        asyncio.run(_wait_finished(url, total, procs))
    finally:
        _stop(procs)


async def _seed(url: str, n: int) -> list[Job]:
    async with PostgresStorage(url, migrate=False) as storage:
        client = await storage.add_client(Client(name="Acme"))
        return [await storage.create_job(make_job(client.id)) for _ in range(n)]


async def _counts(url: str) -> dict[str, int]:
    conn = await connect(url)
    try:
        rows = await conn.fetch("SELECT status, count(*) FROM jobs GROUP BY status")
        counts = {r["status"]: int(r["count"]) for r in rows}
        counts["usage"] = int(await conn.fetchval("SELECT count(*) FROM llm_usage"))
        counts["max_usage_per_job"] = int(await conn.fetchval(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM llm_usage GROUP BY job_id) t"
        ))  # fmt: skip
        return counts
    finally:
        await conn.close()


def chat_calls(provider: FakeOpenAIServer) -> int:
    """Chat completions the provider answered (``requests`` also counts GET /models)."""
    return sum(provider.requests_by_model.values())


@pytest.fixture
def provider() -> Iterator[FakeOpenAIServer]:
    with run_in_thread(usage=(10, 20)) as server:
        yield server


def test_four_workers_complete_500_jobs_exactly_once(
    postgres_url: str, provider: FakeOpenAIServer, tmp_path: Path
) -> None:
    asyncio.run(_seed(postgres_url, 500))
    env = _env(postgres_url, provider.base_url, home=str(tmp_path))
    _run_until_done(postgres_url, 500, [_start(env, "-j", "16") for _ in range(4)])
    counts = asyncio.run(_counts(postgres_url))
    assert counts.get("completed") == 500
    assert counts["usage"] == 500 and counts["max_usage_per_job"] == 1
    assert chat_calls(provider) == 500


async def _wait_running(url: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await _counts(url)).get("in_progress", 0) >= at_least:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never took jobs")


def test_jobs_of_a_sigkilled_worker_complete_in_another_without_duplicate_usage(
    postgres_url: str, tmp_path: Path
) -> None:
    with run_in_thread(usage=(10, 20), delay=3.0) as provider:
        asyncio.run(_seed(postgres_url, 12))
        env = _env(postgres_url, provider.base_url, home=str(tmp_path),
                   CONTENTGEN_LEASE_SECONDS="1.5")  # fmt: skip
        doomed = _start(env, "-j", "6")
        asyncio.run(_wait_running(postgres_url, 6))
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
        provider.delay = 0.05
        _run_until_done(postgres_url, 12, [_start(env, "-j", "6")])
    counts = asyncio.run(_counts(postgres_url))
    assert counts.get("completed") == 12
    assert counts["usage"] == 12 and counts["max_usage_per_job"] == 1
    assert chat_calls(provider) >= 12  # the killed worker's calls were paid, never recorded


def test_a_worker_whose_database_connections_are_terminated_finishes_its_jobs(
    postgres_url: str, tmp_path: Path
) -> None:
    with run_in_thread(usage=(10, 20), delay=1.0) as provider:
        asyncio.run(_seed(postgres_url, 8))
        env = _env(postgres_url, provider.base_url, home=str(tmp_path),
                   CONTENTGEN_LEASE_SECONDS="3")  # fmt: skip
        worker = _start(env, "-j", "4")
        asyncio.run(_wait_running(postgres_url, 4))
        asyncio.run(_terminate_workers(postgres_url))
        _run_until_done(postgres_url, 8, [worker])
    counts = asyncio.run(_counts(postgres_url))
    assert counts.get("completed") == 8
    assert counts["usage"] == 8 and counts["max_usage_per_job"] == 1


async def _terminate_workers(url: str) -> None:
    conn = await connect(url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = 'contentgen'"
        )
    finally:
        await conn.close()
    assert killed >= 1


@pytest.mark.slow
def test_three_workers_sharing_60_rpm_through_redis_send_at_most_60_in_a_minute(
    postgres_url: str, redis_url: str, provider: FakeOpenAIServer, tmp_path: Path
) -> None:
    asyncio.run(_seed(postgres_url, 150))
    env = _env(postgres_url, provider.base_url, home=str(tmp_path),
               CONTENTGEN_RPM_LIMITS='{"openai/gpt-4o-mini": 60}',
               CONTENTGEN_RATE_LIMIT_URL=redis_url.rsplit("/", 1)[0] + "/5")  # fmt: skip
    workers = [_start(env, "-j", "8", "--grace", "0") for _ in range(3)]
    time.sleep(60)
    sent = chat_calls(provider)
    _stop(workers)
    assert 50 <= sent <= 60  # the limit held for the three together, and it was reached
