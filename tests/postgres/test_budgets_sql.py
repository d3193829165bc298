"""Budget reservations on PostgreSQL: atomic across many pools (machines), a retried
reservation is held once, an unknown job is refused; through PostgREST too where it applies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from contentgen.errors import JobNotFound
from contentgen.models import Client, JobStatus
from contentgen.storage.base import Storage
from contentgen.storage.postgres import PostgresStorage
from contentgen.storage.postgres_conn import connect
from storage.factories import T0, make_job, make_usage

SINCE, UNTIL = T0 - timedelta(days=10), T0 + timedelta(days=10)


async def test_reservations_from_many_machines_never_pass_the_limit(
    postgres_url: str, pg: PostgresStorage, acme: Client
) -> None:
    """Four pools (four machines) race 60 holders for a budget that fits exactly ten holds
    besides what a finished job spent."""
    spender = await pg.create_job(make_job(acme.id))
    jobs = [await pg.create_job(make_job(acme.id)) for _ in range(3)]
    [running] = await pg.claim_jobs("w", limit=1, lease_seconds=30, max_attempts=3,
                                    job_id=spender.id)  # fmt: skip
    others = [PostgresStorage(postgres_url, migrate=False, pool_size=4) for _ in range(4)]
    for other in others:
        await other.open()
    try:
        spent = make_usage(spender, cost=500e-9, created_at=T0)

        async def hold(i: int) -> bool:
            found = await others[i % 4].reserve_budget(
                acme.id, jobs[i % 3].id, 100, limit_nanos=1500, since=SINCE, until=UNTIL
            )
            return found.reservation is not None

        await pg.finish_job(running.lease, status=JobStatus.FAILED, error="x", usage=[spent])
        won = await asyncio.gather(*(hold(i) for i in range(60)))
    finally:
        for other in others:
            await other.aclose()
    assert sum(won) == 10
    state = await pg.budget_state(acme.id, since=SINCE, until=UNTIL)
    assert (state.spent_nanos, state.reserved_nanos) == (500, 1000)


async def test_a_retried_reservation_is_held_once(
    postgres_url: str, pg: PostgresStorage, acme: Client
) -> None:
    """A reservation whose answer was lost with the connection is asked again with the same
    id (``PostgresStorage._run`` retries once): it is found, not held twice."""
    job = await pg.create_job(make_job(acme.id))
    rid = uuid.uuid4()
    conn = await connect(postgres_url)
    try:
        answers = [
            await conn.fetchrow(
                "SELECT * FROM contentgen_reserve_budget($1, $2, $3, $4, $5, $6, $7)",
                rid, acme.id, job.id, 600, 1000, SINCE, UNTIL,
            )
            for _ in range(2)
        ]  # fmt: skip
        held = await conn.fetchval("SELECT count(*) FROM budget_reservations")
    finally:
        await conn.close()
    assert [a["reservation_id"] for a in answers] == [rid, rid]
    assert held == 1


async def test_a_reservation_for_an_unknown_job_is_refused(
    queue: Storage, client: Client
) -> None:
    with pytest.raises(JobNotFound):
        await queue.reserve_budget(client.id, uuid.uuid4(), 1, limit_nanos=10,
                                   since=SINCE, until=UNTIL)  # fmt: skip
