"""What only the SQLite backend has: a file, migrations, pragmas, one worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from contentgen.errors import StorageError
from contentgen.models import Client, JobFilter, JobStatus, StrategyConfig
from contentgen.storage import SqliteStorage
from contentgen.storage import _rows as rows
from contentgen.storage import setup_rules as rules
from contentgen.storage._migrate import Migration, load_migrations, migrate

from .factories import T0, claim, finish, make_job, make_usage


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = _db(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "contentgen.db"
    async with SqliteStorage(path):
        pass
    assert path.is_file()


async def test_migrations_are_shipped_and_recorded(sqlite_storage: SqliteStorage) -> None:
    shipped = load_migrations()
    assert shipped[0].name == "0001_initial.sql"
    rows = _query(sqlite_storage.path, "SELECT version, name FROM _migrations ORDER BY version")
    assert rows == [(m.version, m.name) for m in shipped]
    tables = {r[0] for r in _query(sqlite_storage.path, "SELECT name FROM sqlite_master")}
    assert {
        "clients",
        "strategies",
        "strategy_history",
        "seo_rules",
        "content_preferences",
    } < tables
    assert {"prompt_templates", "jobs", "prompt_jobs", "llm_usage"} < tables


async def test_migrations_are_idempotent_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "contentgen.db"
    async with SqliteStorage(path):
        pass
    first = _query(path, "SELECT version, name, applied_at FROM _migrations")
    async with SqliteStorage(path):
        pass
    assert _query(path, "SELECT version, name, applied_at FROM _migrations") == first


async def test_data_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "contentgen.db"
    async with SqliteStorage(path) as storage:
        client = await storage.add_client(Client(name="Acme"))
        job = await storage.create_job(make_job(client.id))
    async with SqliteStorage(path) as storage:
        assert await storage.get_client_by_name("ACME") == client
        assert await storage.get_job(job.id) == job


async def test_pragmas(sqlite_storage: SqliteStorage) -> None:
    assert _query(sqlite_storage.path, "PRAGMA journal_mode") == [("wal",)]

    def pragmas(conn: sqlite3.Connection) -> tuple[object, ...]:
        names = ("foreign_keys", "synchronous", "busy_timeout")
        return tuple(conn.execute(f"PRAGMA {n}").fetchone()[0] for n in names)

    # synchronous NORMAL is 1
    assert await sqlite_storage._call(pragmas) == (1, 1, 30000)


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "contentgen.db"
    async with SqliteStorage(path):
        pass
    _query(path, "INSERT INTO _migrations VALUES (9999, '9999_future.sql', 'now')")
    with pytest.raises(StorageError, match="upgrade contentgen"):
        await SqliteStorage(path).open()


def test_failed_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    conn = _db(tmp_path / "m.db")
    broken = Migration(1, "0001_broken.sql", "CREATE TABLE a (x INTEGER);\nNOT SQL;")
    with pytest.raises(StorageError, match=r"0001_broken\.sql"):
        migrate(conn, [broken])
    assert not conn.in_transaction
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'a'").fetchall() == []
    assert conn.execute("SELECT * FROM _migrations").fetchall() == []
    good = Migration(1, "0001_ok.sql", "CREATE TABLE a (x INTEGER);")
    assert migrate(conn, [good]) == [1]
    assert migrate(conn, [good, Migration(2, "0002_b.sql", "CREATE TABLE b (y TEXT);")]) == [2]
    conn.close()


async def test_closed_storage_refuses_and_reopens(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "contentgen.db")
    async with storage:
        client = await storage.add_client(Client(name="Acme"))
    with pytest.raises(StorageError, match="not open"):
        await storage.get_client(client.id)
    async with storage:
        assert await storage.get_client(client.id) == client


async def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError):
        await SqliteStorage(blocker / "contentgen.db").open()


async def test_finish_rolls_back_on_a_database_error(sqlite_storage: SqliteStorage) -> None:
    """A usage row that a constraint refuses part-way: neither result nor usage is written."""
    client = await sqlite_storage.add_client(Client(name="Acme"))
    running = await claim(sqlite_storage, await sqlite_storage.create_job(make_job(client.id)))
    before = await sqlite_storage.get_job(running.job.id)
    _query(
        sqlite_storage.path,
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON llm_usage WHEN NEW.provider = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
    )
    usage = [make_usage(running.job), make_usage(running.job, provider="boom")]
    with pytest.raises(StorageError, match="boom refused"):
        await finish(sqlite_storage, running, usage)
    assert await sqlite_storage.get_job(running.job.id) == before
    assert await sqlite_storage.list_usage(running.job.id) == []
    attempts = await sqlite_storage.job_attempts(running.job.id)
    assert [a.outcome for a in attempts] == [None]
    # and the connection is usable afterwards, outside any transaction
    done = await finish(sqlite_storage, running, usage[:1])
    assert done is not None and done.status is JobStatus.COMPLETED


async def test_concurrent_callers(sqlite_storage: SqliteStorage) -> None:
    clients = [await sqlite_storage.add_client(Client(name=f"c{i}")) for i in range(5)]

    async def run(i: int) -> None:
        job = await sqlite_storage.create_job(make_job(clients[i % 5].id))
        assert await finish(sqlite_storage, await claim(sqlite_storage, job), [make_usage(job)])

    async def versions(client: Client) -> None:
        for _ in range(5):
            await rules.add_strategy(sqlite_storage, client.id, "s", StrategyConfig(), [])

    await asyncio.gather(*(run(i) for i in range(200)), *(versions(c) for c in clients))
    done = await sqlite_storage.list_jobs(JobFilter(status=JobStatus.COMPLETED, limit=1000))
    assert len(done.jobs) == 200
    for client in clients:
        assert await sqlite_storage.count_jobs(client.id) == 40
        listed = await sqlite_storage.list_strategies(client.id)
        assert [s.version for s in listed] == [1, 2, 3, 4, 5]
        assert [s.active for s in listed] == [False] * 4 + [True]


async def test_in_progress_jobs_of_an_older_version_are_claimable(tmp_path: Path) -> None:
    """A database from before leases: its in_progress jobs had no owner; they are reclaimed."""
    path = tmp_path / "old.db"
    conn = _db(path)
    migrate(conn, load_migrations()[:2])
    client = Client(name="Acme")
    conn.execute("INSERT INTO clients VALUES (?, ?, ?, NULL, ?)",
                 (str(client.id), "Acme", "acme", "2024-01-01T00:00:00.000000+00:00"))  # fmt: skip
    jobs = [make_job(client.id, created_at=T0 - timedelta(seconds=i)) for i in range(3)]
    for job, status in zip(jobs, ["in_progress", "pending", "completed"], strict=True):
        params = list(rows.job_params(job))
        params[2] = status
        conn.execute(f"INSERT INTO jobs ({rows.JOB_COLS}) VALUES ({', '.join('?' * 11)})", params)
    conn.close()
    async with SqliteStorage(path) as storage:
        page = await storage.list_jobs(JobFilter())
        assert [j.id for j in page.jobs] == [jobs[0].id, jobs[1].id, jobs[2].id]
        claimed = await storage.claim_jobs("new:1:a", limit=5, lease_seconds=60, max_attempts=3)
    # the backfilled seq keeps the old order (created_at, then insertion)
    assert [c.job.id for c in claimed] == [jobs[1].id, jobs[0].id]
    assert [c.lease.attempt for c in claimed] == [1, 1]


async def test_upgrade_keeps_usage_money_and_orders(tmp_path: Path) -> None:
    """Rows written before exact money and seq columns: cost becomes nano-dollars, and the
    old order (time, then insertion) becomes seq."""
    path = tmp_path / "old.db"
    conn = _db(path)
    migrate(conn, load_migrations()[:3])
    client = Client(name="Acme")
    conn.execute("INSERT INTO clients VALUES (?, ?, ?, NULL, ?)",
                 (str(client.id), "Acme", "acme", rows.ts(T0)))  # fmt: skip
    job = make_job(client.id)
    conn.execute(
        f"INSERT INTO jobs ({rows.JOB_COLS}, seq) VALUES ({', '.join('?' * 11)}, 1)",
        rows.job_params(job),
    )
    old_usage = "id, job_id, client_id, provider, model, input_tokens, output_tokens, cost, " \
        "latency_ms, created_at"  # fmt: skip
    for i, (cost, at) in enumerate([(0.0012, T0 + timedelta(1)), (1e-10, T0), (0.1, T0)]):
        conn.execute(
            f"INSERT INTO llm_usage ({old_usage}) VALUES (?, ?, ?, 'p', 'm', 1, 2, ?, 3, ?)",
            (f"00000000-0000-4000-8000-00000000000{i}", str(job.id), str(client.id), cost,
             rows.ts(at)),
        )  # fmt: skip
    for name in ("z", "a"):
        conn.execute(
            "INSERT INTO seo_rules (id, client_id, name, rule, created_at) VALUES (?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), str(client.id), name, name, rows.ts(T0)),
        )  # fmt: skip
    conn.close()
    async with SqliteStorage(path) as storage:
        usage = await storage.list_usage(job.id)
        assert [u.cost for u in usage] == [0.0, 0.1, 0.0012]
        assert [u.cost_nanos for u in usage] == [0, 100_000_000, 1_200_000]
        assert all(u.attempt == 1 and u.error is None for u in usage)
        assert [r.name for r in await storage.list_seo_rules(client.id)] == ["z", "a"]
        assert await storage.setup_revision(client.id) == 1


def test_opening_waits_out_a_lock_that_sqlite_reports_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes opening one new database at the same moment: SQLite may answer "database
    is locked" at once (deadlock avoidance, no busy wait). Opening tries again; other errors
    are not retried."""
    from contentgen.storage import _sqlite_worker as worker

    real = worker._configure
    calls: list[int] = []

    def busy_twice(conn: sqlite3.Connection) -> list[int]:
        calls.append(1)
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return real(conn)

    monkeypatch.setattr(worker, "_configure", busy_twice)
    conn, applied = worker._connect(tmp_path / "a.db")
    conn.close()
    assert len(calls) == 3 and applied  # migrated on the third try

    def broken(conn: sqlite3.Connection) -> list[int]:
        calls.append(1)
        raise sqlite3.OperationalError("disk I/O error")

    calls.clear()
    monkeypatch.setattr(worker, "_configure", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        worker._connect(tmp_path / "b.db")
    assert len(calls) == 1
