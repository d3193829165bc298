"""The job queue on PostgreSQL: SKIP LOCKED claims, expired leases, fencing, NOTIFY; the
backend-independent parts also through PostgREST (``queue`` runs them on both)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contentgen.errors import Conflict, JobNotFound
from contentgen.models import Client, Job, JobStatus
from contentgen.storage.base import Storage
from contentgen.storage.postgres import PostgresStorage
from contentgen.storage.postgres_conn import connect
from storage.factories import make_job, make_result, make_usage

LEASE = 30.0


async def _jobs(pg: Storage, client: Client, n: int) -> list[Job]:
    return [await pg.create_job(make_job(client.id)) for _ in range(n)]


async def test_concurrent_claimers_never_share_a_job(
    postgres_url: str, pg: PostgresStorage, acme: Client
) -> None:
    created = await _jobs(pg, acme, 40)
    others = [PostgresStorage(postgres_url, migrate=False) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        claims = await asyncio.gather(*(
            s.claim_jobs(f"w{i}", limit=3, lease_seconds=LEASE, max_attempts=3)
            for i in range(16) for s in [others[i % 3]]
        ))  # fmt: skip
    finally:
        for other in others:
            await other.aclose()
    ids = [c.job.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) == 40
    assert set(ids) == {j.id for j in created}
    for batch in claims:
        for c in batch:
            assert c.job.status is JobStatus.IN_PROGRESS
            assert (c.lease.token, c.lease.attempt) == (1, 1)


async def test_claims_take_the_oldest_first(queue: Storage, client: Client) -> None:
    created = await _jobs(queue, client, 5)
    first = await queue.claim_jobs("w", limit=2, lease_seconds=LEASE, max_attempts=3)
    assert [c.job.id for c in first] == [j.id for j in created[:2]]
    only = await queue.claim_jobs("w", limit=5, lease_seconds=LEASE, max_attempts=3,
                               job_id=created[4].id)  # fmt: skip
    assert [c.job.id for c in only] == [created[4].id]


async def test_an_expired_lease_is_reclaimed_and_the_old_holder_is_fenced(
    queue: Storage, client: Client
) -> None:
    (job,) = await _jobs(queue, client, 1)
    (old,) = await queue.claim_jobs("dead", limit=1, lease_seconds=0, max_attempts=3)
    (new,) = await queue.claim_jobs("alive", limit=1, lease_seconds=LEASE, max_attempts=3)
    assert new.job.id == job.id
    assert (new.lease.token, new.lease.attempt, new.lease.holder) == (2, 2, "alive")
    assert await queue.heartbeat(old.lease, LEASE) is None
    fenced = await queue.finish_job(old.lease, status=JobStatus.COMPLETED, result=make_result(),
                                 usage=[make_usage(job)])  # fmt: skip
    assert fenced is None
    assert await queue.list_usage(job.id) == []
    done = await queue.finish_job(new.lease, status=JobStatus.COMPLETED, result=make_result(),
                               usage=[make_usage(job)], strategy_version=1)  # fmt: skip
    assert done is not None and done.status is JobStatus.COMPLETED
    assert done.strategy_version == 1 and done.result == make_result()
    assert len(await queue.list_usage(job.id)) == 1
    assert await queue.finish_job(new.lease, status=JobStatus.FAILED, error="again") is None


async def test_a_job_whose_worker_was_lost_max_attempts_times_fails(
    queue: Storage, client: Client
) -> None:
    (job,) = await _jobs(queue, client, 1)
    for _ in range(2):
        assert await queue.claim_jobs("lost-host:1:ab", limit=1, lease_seconds=0, max_attempts=2)
    assert await queue.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=2) == []
    failed = await queue.get_job(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert failed.error.startswith("worker lost 2 times; last seen lost-host:1:ab at ")
    history = await queue.job_attempts(job.id)
    assert [(a.attempt, a.outcome) for a in history] == [(1, "lost"), (2, "lost")]
    assert history[-1].error == failed.error


async def test_heartbeat_extends_the_lease_without_writing_the_jobs_row(
    postgres_url: str, pg: PostgresStorage, acme: Client
) -> None:
    await _jobs(pg, acme, 1)
    (claimed,) = await pg.claim_jobs("w", limit=1, lease_seconds=5, max_attempts=3)
    conn = await connect(postgres_url)
    try:
        version = "SELECT xmin::text FROM jobs WHERE id = $1"
        before = await conn.fetchval(version, claimed.job.id)
        extended = await pg.heartbeat(claimed.lease, 60)
        assert await conn.fetchval(version, claimed.job.id) == before
    finally:
        await conn.close()
    assert extended is not None and extended.token == claimed.lease.token
    assert extended.expires_at > claimed.lease.expires_at


async def test_release_returns_the_job_without_counting_the_attempt(
    queue: Storage, client: Client
) -> None:
    (job,) = await _jobs(queue, client, 1)
    (first,) = await queue.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=3)
    assert await queue.release_job(first.lease)
    assert not await queue.release_job(first.lease)
    again = await queue.get_job(job.id)
    assert again is not None and again.status is JobStatus.PENDING
    (second,) = await queue.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=3)
    assert (second.lease.attempt, second.lease.token) == (1, 2)


async def test_cancel_fences_the_runner_and_retry_starts_afresh(
    queue: Storage, client: Client
) -> None:
    (job,) = await _jobs(queue, client, 1)
    (claimed,) = await queue.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=1)
    cancelled = await queue.cancel_job(job.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert await queue.heartbeat(claimed.lease, LEASE) is None
    assert await queue.finish_job(claimed.lease, status=JobStatus.COMPLETED,
                               result=make_result()) is None  # fmt: skip
    with pytest.raises(Conflict):
        await queue.cancel_job(job.id)
    retried = await queue.retry_job(job.id)
    assert retried.status is JobStatus.PENDING
    (again,) = await queue.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=1)
    assert again.lease.attempt == 2 and again.lease.token == 2  # retry: a fresh budget
    done = await queue.finish_job(again.lease, status=JobStatus.COMPLETED, result=make_result())
    assert done is not None
    with pytest.raises(Conflict):
        await queue.retry_job(job.id)
    with pytest.raises(JobNotFound):
        await queue.cancel_job(uuid.uuid4())


async def test_money_is_exact_nano_dollars(pg: PostgresStorage, acme: Client) -> None:
    (job,) = await _jobs(pg, acme, 1)
    (claimed,) = await pg.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=3)
    usage = [make_usage(job, cost=0.1), make_usage(job, cost=0.2), make_usage(job, cost=1e-9)]
    await pg.finish_job(claimed.lease, status=JobStatus.COMPLETED, result=make_result(),
                        usage=usage)  # fmt: skip
    total = await pg._run(lambda c: c.fetchval(
        "SELECT sum(cost_nanos) FROM llm_usage WHERE job_id = $1", job.id))  # fmt: skip
    assert total == 300_000_001
    assert sorted(u.cost for u in await pg.list_usage(job.id)) == [1e-9, 0.1, 0.2]


async def test_status_changes_wake_listeners(pg: PostgresStorage, acme: Client) -> None:
    (job,) = await _jobs(pg, acme, 1)
    other = await pg.create_job(make_job(acme.id))
    waiting = asyncio.create_task(pg.wait_for_change(job.id, timeout=30))
    await asyncio.sleep(0)
    while not pg.changes.listening:
        await asyncio.sleep(0.01)
    await pg.cancel_job(other.id)  # another job: does not wake a waiter on job
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await pg.cancel_job(job.id)
    assert await waiting


async def test_with_listen_off_waiting_is_polling(postgres_url: str, acme: Client) -> None:
    async with PostgresStorage(postgres_url, listen=False, migrate=False) as pg:
        assert await pg.wait_for_change(timeout=0.01) is False
        assert not pg.changes.listening
    async with PostgresStorage(postgres_url, pooled=True, migrate=False) as pooled:
        assert not pooled.changes.enabled
        assert await pooled.list_clients() == [acme]


async def test_a_terminated_backend_connection_is_replaced(
    postgres_url: str, pg: PostgresStorage, acme: Client
) -> None:
    (job,) = await _jobs(pg, acme, 1)
    (claimed,) = await pg.claim_jobs("w", limit=1, lease_seconds=LEASE, max_attempts=3)
    admin = await connect(postgres_url)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = 'contentgen'"
        )
    finally:
        await admin.close()
    assert killed >= 1
    done = await pg.finish_job(claimed.lease, status=JobStatus.COMPLETED, result=make_result(),
                               usage=[make_usage(job)])  # fmt: skip
    assert done is not None and done.status is JobStatus.COMPLETED
    assert len(await pg.list_usage(job.id)) == 1


async def test_waiting_for_new_work_ignores_other_status_changes(
    pg: PostgresStorage, acme: Client
) -> None:
    (job,) = await _jobs(pg, acme, 1)
    new_work = asyncio.create_task(pg.wait_for_change(timeout=30, statuses=frozenset({"pending"})))
    while not pg.changes.listening:
        await asyncio.sleep(0.01)
    await pg.cancel_job(job.id)  # -> cancelled: not new work
    await asyncio.sleep(0.05)
    assert not new_work.done()
    await pg.retry_job(job.id)  # -> pending again
    assert await new_work
