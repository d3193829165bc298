"""The Storage contract, part 3: leases. Runs on every registered backend.

Expiry is tested without waiting: a lease of 0 seconds is expired as soon as it is taken.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from contentgen.errors import Conflict, InvalidInput, JobNotFound
from contentgen.models import Client, Job, JobStatus, utcnow
from contentgen.storage import Storage
from contentgen.storage.base import ClaimedJob

from .backends import Database
from .factories import claim, finish, make_job, make_result, make_usage

A, B = "host-a:1:aaaa", "host-b:2:bbbb"


async def _jobs(storage: Storage, client: Client, n: int) -> list[Job]:
    return [await storage.create_job(make_job(client.id)) for _ in range(n)]


async def _claim(storage: Storage, holder: str, limit: int = 1, **kw: object) -> list[ClaimedJob]:
    args: dict[str, object] = {"lease_seconds": 60, "max_attempts": 3, **kw}
    return await storage.claim_jobs(holder, limit=limit, **args)  # type: ignore[arg-type]


# claiming ---------------------------------------------------------------------------------------
async def test_claim_takes_pending_jobs_oldest_first(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 5)
    before = utcnow()
    first = await _claim(storage, A, limit=2, lease_seconds=30)
    assert [c.job.id for c in first] == [jobs[0].id, jobs[1].id]
    for c in first:
        assert c.job.status is JobStatus.IN_PROGRESS
        assert (c.lease.job_id, c.lease.holder, c.lease.token, c.lease.attempt) == (
            c.job.id, A, 1, 1,
        )  # fmt: skip
        assert before + timedelta(seconds=29) < c.lease.expires_at <= utcnow() + timedelta(30)
        assert await storage.get_job(c.job.id) == c.job
    rest = await _claim(storage, B, limit=10)
    assert [c.job.id for c in rest] == [j.id for j in jobs[2:]]
    assert await _claim(storage, A, limit=10) == []
    attempts = await storage.job_attempts(jobs[0].id)
    assert [(a.token, a.attempt, a.holder, a.outcome) for a in attempts] == [(1, 1, A, None)]


async def test_claim_by_job_id(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 3)
    got = await _claim(storage, A, limit=5, job_id=jobs[2].id)
    assert [c.job.id for c in got] == [jobs[2].id]
    assert await _claim(storage, B, job_id=jobs[2].id) == []  # leased
    assert await _claim(storage, B, job_id=uuid.uuid4()) == []
    assert [c.job.id for c in await _claim(storage, B, limit=5)] == [jobs[0].id, jobs[1].id]


async def test_finished_and_cancelled_jobs_are_not_claimed(
    storage: Storage, client: Client
) -> None:
    jobs = await _jobs(storage, client, 3)
    await finish(storage, await claim(storage, jobs[0], lease_seconds=0))
    await storage.cancel_job(jobs[1].id)
    assert [c.job.id for c in await _claim(storage, B, limit=5)] == [jobs[2].id]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"lease_seconds": -1}, "lease_seconds"),
        ({"lease_seconds": float("nan")}, "lease_seconds"),
        ({"lease_seconds": float("inf")}, "lease_seconds"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
async def test_claim_arguments_are_checked(
    storage: Storage, client: Client, args: dict[str, object], field: str
) -> None:
    (job,) = await _jobs(storage, client, 1)
    with pytest.raises(InvalidInput) as info:
        await _claim(storage, A, **args)
    assert info.value.field == field
    assert await storage.get_job(job.id) == job


async def test_concurrent_claims_take_each_job_once(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 30)
    batches = await asyncio.gather(*(_claim(storage, f"h{i}", limit=2) for i in range(25)))
    ids = [c.job.id for batch in batches for c in batch]
    assert sorted(ids) == sorted(j.id for j in jobs)


async def test_two_instances_take_each_job_once(db: Database) -> None:
    async with db.make() as a, db.make() as b:
        client = await a.add_client(Client(name="Acme"))
        jobs = await _jobs(b, client, 60)

        async def drain(storage: Storage, holder: str) -> list[uuid.UUID]:
            taken: list[uuid.UUID] = []
            while got := await _claim(storage, holder, limit=3):
                taken += [c.job.id for c in got]
                for c in got:
                    assert await finish(storage, c, [make_usage(c.job)]) is not None
            return taken

        taken_a, taken_b = await asyncio.gather(drain(a, A), drain(b, B))
        assert Counter(taken_a + taken_b) == Counter(j.id for j in jobs)
        for job in jobs:
            assert len(await a.list_usage(job.id)) == 1


# expiry -----------------------------------------------------------------------------------------
async def test_an_expired_lease_is_taken_over(db: Database) -> None:
    async with db.make() as a, db.make() as b:
        client = await a.add_client(Client(name="Acme"))
        (job,) = await _jobs(a, client, 1)
        old = await claim(a, job, A, lease_seconds=0)
        (new,) = await _claim(b, B)
        assert new.job.id == job.id and new.job.status is JobStatus.IN_PROGRESS
        assert (new.lease.holder, new.lease.token, new.lease.attempt) == (B, 2, 2)
        attempts = await b.job_attempts(job.id)
        assert [(a.token, a.holder, a.outcome) for a in attempts] == [(1, A, "lost"), (2, B, None)]
        assert old.lease.token == 1


async def test_a_live_lease_is_not_taken(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    await claim(storage, job, A, lease_seconds=3600)
    assert await _claim(storage, B, limit=5) == []


async def test_failed_after_max_attempts(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 2)
    first = await claim(storage, jobs[0], A, lease_seconds=0, max_attempts=2)
    second = await claim(storage, jobs[0], B, lease_seconds=0, max_attempts=2)
    assert second.lease.attempt == 2
    # the third claim finds the job expired after 2 attempts: it fails it, takes the next one
    got = await _claim(storage, A, limit=5, max_attempts=2)
    assert [c.job.id for c in got] == [jobs[1].id]
    failed = await storage.get_job(jobs[0].id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert failed.error.startswith(f"worker lost 2 times; last seen {B} at ")
    assert failed.error.endswith(" UTC")
    attempts = await storage.job_attempts(jobs[0].id)
    assert [a.outcome for a in attempts] == ["lost", "lost"]
    assert attempts[-1].error == failed.error
    # neither runner can write now
    for runner in (first, second):
        assert await finish(storage, runner, [make_usage(runner.job)]) is None
    assert await storage.list_usage(jobs[0].id) == []


# fencing ----------------------------------------------------------------------------------------
async def test_a_runner_whose_lease_was_taken_over_writes_nothing(db: Database) -> None:
    async with db.make() as a, db.make() as b:
        client = await a.add_client(Client(name="Acme"))
        (job,) = await _jobs(a, client, 1)
        stale = await claim(a, job, A, lease_seconds=0)
        current = await claim(b, job, B)
        assert await finish(a, stale, [make_usage(job)]) is None
        assert await finish(a, stale, status=JobStatus.FAILED, result=None, error="x") is None
        assert await a.heartbeat(stale.lease, 60) is None
        assert await a.release_job(stale.lease) is False
        assert await b.list_usage(job.id) == []
        assert await b.get_job(job.id) == current.job  # untouched, still B's
        row = make_usage(job, provider="b")
        done = await finish(b, current, [row])
        assert done is not None and done.status is JobStatus.COMPLETED
        assert await a.list_usage(job.id) == [row.model_copy(update={"attempt": 2})]
        assert await finish(b, current, [make_usage(job)]) is None  # never twice


async def test_a_fenced_runner_keeps_the_calls_it_paid_for(db: Database) -> None:
    """Taken over: the stale runner's paid calls are stored beside the new runner's, marked
    with their own attempt; the job and its lease stay the new runner's."""
    async with db.make() as a, db.make() as b:
        client = await a.add_client(Client(name="Acme"))
        (job,) = await _jobs(a, client, 1)
        stale = await claim(a, job, A, lease_seconds=0)
        current = await claim(b, job, B)
        paid = [make_usage(job, provider="stale"), make_usage(job, provider="stale", cost=None)]
        assert await a.store_fenced_usage(stale.lease, paid) == 2
        assert await b.get_job(job.id) == current.job  # still B's, in progress
        assert await b.heartbeat(current.lease, 60) is not None
        mine = make_usage(job, provider="b")
        assert await finish(b, current, [mine]) is not None
        stored = await a.list_usage(job.id)
        assert [(u.provider, u.attempt, u.cost) for u in stored] == [
            ("stale", 1, paid[0].cost), ("stale", 1, None), ("b", 2, mine.cost)
        ]  # fmt: skip


async def test_usage_of_a_cancelled_run_is_stored_once(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job, A)
    await storage.cancel_job(job.id)
    paid = [make_usage(job), make_usage(job, error="HTTP 503")]
    assert await finish(storage, running, paid) is None  # fenced: the finish is refused
    assert await storage.store_fenced_usage(running.lease, paid) == 2
    assert await storage.store_fenced_usage(running.lease, paid) == 0  # a repeat: no twice
    extra = make_usage(job, provider="anthropic")
    assert await storage.store_fenced_usage(running.lease, [paid[0], extra]) == 1
    stored = await storage.list_usage(job.id)
    assert [u.id for u in stored] == [paid[0].id, paid[1].id, extra.id]
    day = timedelta(days=1)
    state = await storage.budget_state(client.id, since=utcnow() - day, until=utcnow() + day)
    assert state.spent_nanos == sum(u.cost_nanos or 0 for u in stored) > 0  # counts as spent
    after = await storage.get_job(job.id)
    assert after is not None and after.status is JobStatus.CANCELLED  # untouched
    assert await storage.store_fenced_usage(running.lease, []) == 0


async def test_fenced_usage_must_belong_to_the_job(storage: Storage, client: Client) -> None:
    first, second = await _jobs(storage, client, 2)
    running = await claim(storage, first, A)
    await storage.cancel_job(first.id)
    with pytest.raises(InvalidInput):
        await storage.store_fenced_usage(running.lease, [make_usage(second)])
    with pytest.raises(InvalidInput):
        await storage.store_fenced_usage(running.lease, [make_usage(first, client_id=uuid.uuid4())])
    other = await storage.add_client(Client(name="Other"))
    with pytest.raises(InvalidInput):  # a real client, but not the job's
        await storage.store_fenced_usage(running.lease, [make_usage(first, client_id=other.id)])
    gone = replace(running.lease, job_id=uuid.uuid4())
    with pytest.raises(JobNotFound):
        await storage.store_fenced_usage(gone, [make_usage(first, job_id=gone.job_id)])
    assert await storage.list_usage(first.id) == []


# heartbeat, release -----------------------------------------------------------------------------
async def test_heartbeat_extends_the_lease(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job, A, lease_seconds=0)
    stored = await storage.get_job(job.id)
    renewed = await storage.heartbeat(running.lease, 3600)
    assert renewed is not None
    assert (renewed.token, renewed.attempt, renewed.holder) == (1, 1, A)
    assert renewed.expires_at > utcnow() + timedelta(seconds=3500)
    assert await _claim(storage, B) == []  # no longer expired
    assert await storage.get_job(job.id) == stored  # the jobs row is not rewritten
    done = await finish(storage, running)  # the old Lease value still names the token
    assert done is not None
    assert await storage.heartbeat(renewed, 60) is None  # finished: nothing to extend


async def test_heartbeat_refuses_bad_seconds(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job)
    with pytest.raises(InvalidInput):
        await storage.heartbeat(running.lease, -5)


async def test_release_gives_the_job_back_without_counting(
    storage: Storage, client: Client
) -> None:
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job, A, max_attempts=1)
    assert await storage.release_job(running.lease) is True
    assert await storage.release_job(running.lease) is False
    pending = await storage.get_job(job.id)
    assert pending is not None and pending.status is JobStatus.PENDING
    again = await claim(storage, job, B, max_attempts=1, lease_seconds=0)
    assert (again.lease.token, again.lease.attempt) == (2, 1)
    assert await finish(storage, running) is None
    attempts = await storage.job_attempts(job.id)
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, "released"), (1, None)]


async def test_release_keeps_the_calls_already_paid_and_drops_their_holds(
    storage: Storage, client: Client
) -> None:
    from .test_contract_budgets import MONTH

    since, until = MONTH
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job, A)
    held = await storage.reserve_budget(client.id, job.id, 500, limit_nanos=10**9,
                                        since=since, until=until)  # fmt: skip
    assert held.reservation is not None
    paid = [make_usage(job, cost=0.25), make_usage(job, cost=0.5, error="timeout")]
    assert await storage.release_job(running.lease, usage=paid) is True
    stored = await storage.list_usage(job.id)
    assert sorted(u.cost or 0 for u in stored) == [0.25, 0.5]
    state = await storage.budget_state(client.id, since=since, until=until)
    assert state.reserved_nanos == 0  # the rows replaced the hold
    # a runner that lost its lease stores nothing, however many calls it made
    again = await claim(storage, job, B)
    assert await storage.release_job(running.lease, usage=[make_usage(job)]) is False
    assert len(await storage.list_usage(job.id)) == 2
    assert await finish(storage, again, [make_usage(job)]) is not None
    assert len(await storage.list_usage(job.id)) == 3


# cancel, retry ----------------------------------------------------------------------------------
async def test_cancel_fences_the_runner(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 2)
    running = await claim(storage, jobs[0], A)
    cancelled = await storage.cancel_job(jobs[0].id)
    assert cancelled.status is JobStatus.CANCELLED
    assert await storage.get_job(jobs[0].id) == cancelled
    assert await finish(storage, running, [make_usage(jobs[0])]) is None
    assert await storage.heartbeat(running.lease, 60) is None
    assert await storage.release_job(running.lease) is False
    assert await storage.list_usage(jobs[0].id) == []
    assert [a.outcome for a in await storage.job_attempts(jobs[0].id)] == ["cancelled"]
    pending = await storage.cancel_job(jobs[1].id)
    assert pending.status is JobStatus.CANCELLED
    assert await _claim(storage, B, limit=5) == []


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
async def test_cancel_refuses_finished_jobs(
    storage: Storage, client: Client, final: JobStatus
) -> None:
    (job,) = await _jobs(storage, client, 1)
    running = await claim(storage, job)
    error = None if final is JobStatus.COMPLETED else "stop"
    result = make_result() if final is JobStatus.COMPLETED else None
    done = await finish(storage, running, status=final, result=result, error=error)
    with pytest.raises(Conflict, match=final.value):
        await storage.cancel_job(job.id)
    assert await storage.get_job(job.id) == done
    with pytest.raises(JobNotFound):
        await storage.cancel_job(uuid.uuid4())


async def test_retry_runs_again_and_keeps_history(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    first = await claim(storage, job, A)
    failed_usage = make_usage(job)
    await finish(storage, first, [failed_usage], status=JobStatus.FAILED, result=None,
                 error="provider timed out")  # fmt: skip
    retried = await storage.retry_job(job.id)
    assert retried.status is JobStatus.PENDING
    assert (retried.error, retried.result) == (None, None)
    assert await storage.get_job(job.id) == retried
    second = await claim(storage, job, B)
    assert (second.lease.token, second.lease.attempt) == (2, 2)
    assert await finish(storage, first) is None  # the first runner stays fenced out
    done_usage = make_usage(job)
    assert await finish(storage, second, [done_usage]) is not None
    history = await storage.job_attempts(job.id)
    assert [(a.holder, a.outcome, a.error) for a in history] == [
        (A, "failed", "provider timed out"),
        (B, "completed", None),
    ]
    assert all(a.ended_at is not None and a.ended_at >= a.claimed_at for a in history)
    assert await storage.list_usage(job.id) == [  # each marked with its attempt
        failed_usage,
        done_usage.model_copy(update={"attempt": 2}),
    ]
    with pytest.raises(Conflict, match="completed"):
        await storage.retry_job(job.id)


async def test_retry_of_cancelled_and_refusals(storage: Storage, client: Client) -> None:
    jobs = await _jobs(storage, client, 2)
    await storage.cancel_job(jobs[0].id)
    assert (await storage.retry_job(jobs[0].id)).status is JobStatus.PENDING
    with pytest.raises(Conflict, match="pending"):
        await storage.retry_job(jobs[0].id)
    await claim(storage, jobs[1])
    with pytest.raises(Conflict, match="in_progress"):
        await storage.retry_job(jobs[1].id)
    with pytest.raises(JobNotFound):
        await storage.retry_job(uuid.uuid4())


async def test_retry_gives_a_fresh_attempt_budget(storage: Storage, client: Client) -> None:
    (job,) = await _jobs(storage, client, 1)
    await claim(storage, job, A, lease_seconds=0, max_attempts=1)
    assert await _claim(storage, B, max_attempts=1) == []  # lost once: failed
    assert (await storage.get_job(job.id)).status is JobStatus.FAILED  # type: ignore[union-attr]
    await storage.retry_job(job.id)
    again = await claim(storage, job, B, lease_seconds=0, max_attempts=1)
    assert (again.lease.token, again.lease.attempt) == (2, 2)
    assert await _claim(storage, A, max_attempts=1) == []
    failed = await storage.get_job(job.id)
    assert failed is not None and failed.error is not None
    assert failed.error.startswith(f"worker lost 1 time; last seen {B} at ")
