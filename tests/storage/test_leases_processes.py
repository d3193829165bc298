"""Leases across OS processes on one database: every backend another process can open.

Each process is a real ``python`` running ``claimer.py`` with its own connection.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contentgen.models import Client, JobFilter, JobStatus
from contentgen.storage import Storage

from .backends import BACKENDS, Database, backend_params
from .factories import claim, finish, make_job

CLAIMER = str(Path(__file__).with_name("claimer.py"))


@pytest.fixture(params=backend_params(cross_process=True))
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    async with BACKENDS[request.param].factory(request) as database:
        assert database.url is not None
        yield database


async def _start(url: str, holder: str, mode: str, arg: object) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, CLAIMER, url, holder, mode, str(arg),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    assert raw, f"claimer exited early with {await proc.wait()}"
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


async def _jobs(storage: Storage, n: int) -> list[uuid.UUID]:
    client = await storage.add_client(Client(name="Acme"))
    return [(await storage.create_job(make_job(client.id))).id for _ in range(n)]


async def test_two_processes_claim_every_job_exactly_once(shared: Database) -> None:
    assert shared.url is not None
    async with shared.make() as storage:
        ids = await _jobs(storage, 200)
    procs = [await _start(shared.url, f"proc-{i}", "drain", i + 1) for i in range(2)]
    for proc in procs:
        assert await _line(proc) == {"ready": True}
    for proc in procs:  # both start claiming at once
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    assert [p.returncode for p in procs] == [0, 0]
    claims = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert Counter(c["job"] for c in claims) == Counter(str(i) for i in ids)
    assert all(c["finished"] and c["token"] == 1 for c in claims)
    per_process = [len(out.splitlines()) for out, _ in outputs]
    async with shared.make() as storage:
        page = await storage.list_jobs(JobFilter(status=JobStatus.COMPLETED, limit=500))
        assert len(page.jobs) == 200, per_process
        usage = [u for i in ids for u in await storage.list_usage(i)]
    assert len(usage) == 200
    by_holder = Counter(u.provider for u in usage)
    assert sum(by_holder.values()) == 200 and set(by_holder) <= {"proc-0", "proc-1"}


async def test_a_killed_holder_keeps_its_job_until_the_lease_expires(shared: Database) -> None:
    assert shared.url is not None
    async with shared.make() as storage:
        live, expiring = await _jobs(storage, 2)
        holder = await _start(shared.url, "doomed", "hold", 3600)
        assert (await _line(holder))["jobs"] == [str(live)]
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        # a live lease is never taken, even when its holder is gone: it has to expire
        got = await storage.claim_jobs("other", limit=5, lease_seconds=60, max_attempts=3,
                                       job_id=live)  # fmt: skip
        assert got == []

        quick = await _start(shared.url, "doomed-too", "hold", 0)
        assert (await _line(quick))["jobs"] == [str(expiring)]
        quick.send_signal(signal.SIGKILL)
        await quick.wait()
        job = await storage.get_job(expiring)
        assert job is not None
        taken = await claim(storage, job, "survivor")
        assert (taken.lease.token, taken.lease.attempt) == (2, 2)
        done = await finish(storage, taken)
        assert done is not None and done.status is JobStatus.COMPLETED
        attempts = await storage.job_attempts(expiring)
        assert [(a.holder, a.outcome) for a in attempts] == [
            ("doomed-too", "lost"),
            ("survivor", "completed"),
        ]
