"""SqliteStorage's operation queue: the worker runs every queued operation per wake-up."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from contentgen.errors import ClientNotFound, StorageError
from contentgen.models import Client, JobFilter
from contentgen.storage import SqliteStorage

from .factories import make_job


async def test_concurrent_operations_each_get_their_own_result(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite") as storage:
        client = await storage.add_client(Client(name="acme"))
        jobs = [make_job(client.id) for _ in range(50)]
        stray = make_job(Client(name="nobody").id)  # unknown client: fails alone
        results = await asyncio.gather(
            *(storage.create_job(j) for j in jobs[:25]),
            storage.create_job(stray),
            *(storage.create_job(j) for j in jobs[25:]),
            return_exceptions=True,
        )
        stored = (await storage.list_jobs(JobFilter(limit=100))).jobs
    assert isinstance(results[25], ClientNotFound)
    assert [r.id for r in results if not isinstance(r, BaseException)] == [j.id for j in jobs]
    assert {j.id for j in stored} == {j.id for j in jobs}


async def test_operations_run_in_order_on_one_thread(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite") as storage:
        seen: list[tuple[int, str]] = []

        def op(n: int) -> object:
            return lambda _conn: seen.append((n, threading.current_thread().name))

        await asyncio.gather(*(storage._call(op(n)) for n in range(30)))
    assert [n for n, _ in seen] == list(range(30))
    assert {name for _, name in seen} != {threading.current_thread().name}
    assert len({name for _, name in seen}) == 1


async def test_cancelled_before_it_ran_never_runs(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite") as storage:
        gate = threading.Event()
        ran: list[str] = []
        first = asyncio.ensure_future(storage._call(lambda _c: gate.wait(5)))
        await asyncio.sleep(0.01)  # the worker is busy with ``first``
        second = asyncio.ensure_future(storage._call(lambda _c: ran.append("second")))
        third = asyncio.ensure_future(storage._call(lambda _c: ran.append("third")))
        await asyncio.sleep(0)
        second.cancel()
        gate.set()
        await first
        await third
        with pytest.raises(asyncio.CancelledError):
            await second
    assert ran == ["third"]


async def test_database_errors_become_storage_errors(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite") as storage:
        with pytest.raises(StorageError, match="no such table"):
            await storage._call(lambda c: c.execute("SELECT * FROM nothing_here"))
        assert await storage.list_clients() == []  # the queue keeps working


async def test_closed_storage_refuses_operations(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite")
    await storage.open()
    pending = asyncio.ensure_future(storage.list_clients())
    await asyncio.sleep(0)
    await storage.aclose()
    assert await pending == []  # queued before the close: it ran first
    with pytest.raises(StorageError, match="not open"):
        await storage.list_clients()
