"""The Storage contract, part 6: budgets, reservations (atomic: parallel holders never pass the
limit) and the usage report."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from contentgen.errors import ClientNotFound
from contentgen.models import NO_CALL, Client, JobStatus, UsageLine
from contentgen.storage import Storage
from contentgen.storage.base import BudgetState

from .conftest import StorageFactory
from .factories import T0, claim, finish, make_job, make_usage

MONTH = (T0 - timedelta(days=10), T0 + timedelta(days=10))
NANO = 1_000_000_000  # one dollar


async def test_budgets_are_set_listed_and_removed(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    await storage.set_budget(client.id, 50 * NANO)
    await storage.set_budget(other.id, 0)
    await storage.set_budget(client.id, 60 * NANO)  # replaces
    assert await storage.list_budgets() == {client.id: 60 * NANO, other.id: 0}
    await storage.set_budget(other.id, None)
    assert await storage.list_budgets() == {client.id: 60 * NANO}
    with pytest.raises(ClientNotFound):
        await storage.set_budget(uuid.uuid4(), NANO)
    await storage.delete_client(other.id)
    await storage.delete_client(client.id)
    assert await storage.list_budgets() == {}


async def test_reserve_holds_until_the_usage_rows_replace_it(
    storage: Storage, client: Client
) -> None:
    since, until = MONTH
    job = await storage.create_job(make_job(client.id))
    first = await storage.reserve_budget(client.id, job.id, 600, limit_nanos=1000,
                                         since=since, until=until)  # fmt: skip
    assert first.reservation is not None and first.state == BudgetState(0, 0, 0)
    refused = await storage.reserve_budget(client.id, job.id, 401, limit_nanos=1000,
                                           since=since, until=until)  # fmt: skip
    assert refused.reservation is None and refused.state == BudgetState(0, 600, 0)
    # the call cost less than its estimate: the rest is free again
    assert await storage.settle_reservation(first.reservation.id, 300)
    second = await storage.reserve_budget(client.id, job.id, 700, limit_nanos=1000,
                                          since=since, until=until)  # fmt: skip
    assert second.reservation is not None
    assert await storage.budget_state(client.id, since=since, until=until) == BudgetState(
        0, 1000, 0
    )
    assert await storage.settle_reservation(second.reservation.id, 0)  # failed: nothing paid
    assert not await storage.settle_reservation(second.reservation.id, 5)  # gone
    # finishing the job stores its usage rows and drops its holds in one step
    running = await claim(storage, job)
    rows = [make_usage(job, cost=300e-9, created_at=T0), make_usage(job, cost=None, created_at=T0)]
    await finish(storage, running, rows)
    assert await storage.budget_state(client.id, since=since, until=until) == BudgetState(
        300, 0, 1
    )
    # spending outside the period does not count
    later = await storage.budget_state(client.id, since=until, until=until + timedelta(days=30))
    assert later == BudgetState(0, 0, 0)


async def test_holds_of_finished_jobs_do_not_count(storage: Storage, client: Client) -> None:
    since, until = MONTH
    job = await storage.create_job(make_job(client.id))
    held = await storage.reserve_budget(client.id, job.id, 900, limit_nanos=1000,
                                        since=since, until=until)  # fmt: skip
    assert held.reservation is not None
    await storage.cancel_job(job.id)  # e.g. the runner vanished and the job was cancelled
    other = await storage.create_job(make_job(client.id))
    again = await storage.reserve_budget(client.id, other.id, 900, limit_nanos=1000,
                                         since=since, until=until)  # fmt: skip
    assert again.reservation is not None and again.state.reserved_nanos == 0


async def test_budgets_are_per_client(storage: Storage, client: Client) -> None:
    since, until = MONTH
    other = await storage.add_client(Client(name="Other"))
    mine = await storage.create_job(make_job(client.id))
    theirs = await storage.create_job(make_job(other.id))
    assert (await storage.reserve_budget(client.id, mine.id, 1000, limit_nanos=1000,
                                         since=since, until=until)).reservation  # fmt: skip
    assert (await storage.reserve_budget(other.id, theirs.id, 1000, limit_nanos=1000,
                                         since=since, until=until)).reservation  # fmt: skip


async def test_parallel_reservations_never_pass_the_limit(
    make_storage: StorageFactory, client: Client, storage: Storage
) -> None:
    """40 holders on two storage instances (two connections, threads for SQLite) race for a
    budget that fits exactly 7 of them."""
    since, until = MONTH
    jobs = [await storage.create_job(make_job(client.id)) for _ in range(4)]
    async with make_storage() as second:
        stores = [storage, second]

        async def one(i: int) -> bool:
            found = await stores[i % 2].reserve_budget(
                client.id, jobs[i % 4].id, 100, limit_nanos=700, since=since, until=until
            )
            return found.reservation is not None

        won = await asyncio.gather(*(one(i) for i in range(40)))
    assert sum(won) == 7
    state = await storage.budget_state(client.id, since=since, until=until)
    assert state.reserved_nanos == 700


# -- the usage report -------------------------------------------------------------------------


async def test_usage_report_groups_and_adds_up(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    day2 = T0 + timedelta(days=1)
    # job 1: a 500, a retry that times out, then the fallback model succeeds
    job1 = await storage.create_job(make_job(client.id))
    run1 = await claim(storage, job1)
    await finish(storage, run1, [
        make_usage(job1, error="HTTP 500", cost=0, input_tokens=0, output_tokens=0, created_at=T0),
        make_usage(job1, error="timeout", cost=0, input_tokens=0, output_tokens=0, created_at=T0),
        make_usage(job1, model="gpt-4o", cost=0.5, created_at=T0),
    ])  # fmt: skip
    # job 2 (other client, next day): fails after one paid call at an unknown price
    job2 = await storage.create_job(make_job(other.id))
    run2 = await claim(storage, job2)
    await finish(storage, run2, [make_usage(job2, cost=None, error="empty", created_at=day2)],
                 status=JobStatus.FAILED, result=None, error="empty reply")  # fmt: skip
    # job 3: refused before any call (e.g. budget exceeded)
    job3 = await storage.create_job(make_job(client.id))
    run3 = await claim(storage, job3)
    await finish(storage, run3, [], status=JobStatus.FAILED, result=None, error="budget")

    by_model = await storage.usage_report(by="model")
    assert [line.key for line in by_model.lines] == [NO_CALL, "gpt-4o", "gpt-4o-mini"]
    none, big, mini = by_model.lines
    assert (none.calls, none.failures, none.pieces) == (0, 1, 0)
    assert (big.calls, big.retries, big.pieces, big.cost) == (1, 1, 1, 0.5)
    assert (mini.calls, mini.failed_calls, mini.retries, mini.failures) == (3, 3, 1, 1)
    assert (mini.cost, mini.unpriced_calls) == (0.0, 1)
    total = by_model.total
    assert total == UsageLine(
        key="total", calls=4, failed_calls=3, retries=2, input_tokens=240, output_tokens=680,
        cost_nanos=500_000_000, unpriced_calls=1, pieces=1, failures=2,
    )  # fmt: skip

    by_client = await storage.usage_report(by="client")
    assert {line.key: (line.calls, line.pieces, line.failures) for line in by_client.lines} == {
        str(client.id): (3, 1, 1), str(other.id): (1, 0, 1),
    }  # fmt: skip
    assert by_client.total.calls == 4

    by_day = await storage.usage_report(by="day", since=T0 - timedelta(hours=1),
                                        until=T0 + timedelta(days=2))  # fmt: skip
    usage_days = {line.key: line.calls for line in by_day.lines if line.calls}
    assert usage_days == {"2024-05-01": 3, "2024-05-02": 1}

    mine = await storage.usage_report(by="model", client_ids=[other.id])
    assert [(line.key, line.calls) for line in mine.lines] == [("gpt-4o-mini", 1)]
    assert (await storage.usage_report(by="client", client_ids=[])).total.calls == 0
    window = await storage.usage_report(by="client", since=day2)
    assert window.total.calls == 1 and window.total.unpriced_calls == 1
