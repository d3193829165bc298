"""The worker loop: claims up to its concurrency, stops on an event (grace, then release),
survives a database hiccup, wakes on demand; signals as a context manager."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from contentgen.models import JobStatus
from contentgen.production.signals import stop_on_signals
from contentgen.production.worker import Worker

from .conftest import Hanging, MakeClient, queued


async def test_worker_runs_jobs_queued_while_it_waits(cg, llm: Hanging) -> None:
    worker = Worker(cg.pipeline, concurrency=2, poll=0.05, max_poll=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    jobs = [await queued(cg, f"Solar panels for small offices {i}") for i in range(3)]
    worker.wake()
    for _ in range(200):
        statuses = [(await cg.status(j.id)).status for j in jobs]
        if all(s is JobStatus.COMPLETED for s in statuses):
            break
        await asyncio.sleep(0.05)
    stop.set()
    stats = await asyncio.wait_for(task, 10)
    assert stats.by_status["completed"] == 3 and llm.calls == 3


async def test_worker_never_runs_more_than_its_concurrency(cg, llm: Hanging) -> None:
    for i in range(5):
        await queued(cg, f"Solar panels for small offices {i}")
    llm.hold = True
    worker = Worker(cg.pipeline, concurrency=2, poll=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await llm.started.wait()
    await asyncio.sleep(0.2)
    assert worker.active == 2
    assert len([j for j in await cg.jobs() if j.status is JobStatus.IN_PROGRESS]) == 2
    llm.release()
    await asyncio.sleep(0.5)
    stop.set()
    stats = await asyncio.wait_for(task, 10)
    assert stats.by_status["completed"] == 5


async def test_stop_waits_out_the_grace_then_hands_jobs_back(
    make_client: MakeClient, cg, llm: Hanging
) -> None:
    job = await queued(cg)
    llm.hold = True
    worker = Worker(cg.pipeline, concurrency=1, poll=0.05, grace=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await llm.started.wait()
    stop.set()
    stats = await asyncio.wait_for(task, 10)
    assert stats.by_status["released"] == 1 and llm.cancelled == 1
    assert (await cg.status(job.id)).status is JobStatus.PENDING  # for the next worker
    llm.release()
    other = make_client()
    await other.open()
    again = await other.run_worker(1, once=True)
    assert again.by_status["completed"] == 1
    attempts = await cg.storage.job_attempts(job.id)
    assert [a.outcome for a in attempts] == ["released", "completed"]


async def test_stop_lets_running_jobs_finish_within_the_grace(cg, llm: Hanging) -> None:
    job = await queued(cg)
    llm.hold = True
    worker = Worker(cg.pipeline, concurrency=1, poll=0.05, grace=30)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await llm.started.wait()
    stop.set()
    await asyncio.sleep(0.1)
    assert not task.done()  # waiting for the running job
    llm.release()
    stats = await asyncio.wait_for(task, 10)
    assert stats.by_status["completed"] == 1
    assert (await cg.status(job.id)).status is JobStatus.COMPLETED


async def test_a_failing_claim_is_logged_and_retried(
    cg, llm: Hanging, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await queued(cg)
    real = cg.pipeline.claim
    failures = []

    async def flaky(**kw):
        if not failures:
            failures.append(1)
            raise OSError("database is away")
        return await real(**kw)

    monkeypatch.setattr(cg.pipeline, "claim", flaky)
    worker = Worker(cg.pipeline, concurrency=1, poll=0.01)
    stats = await asyncio.wait_for(worker.run(once=True), 10)
    assert failures and stats.by_status["completed"] == 1
    assert (await cg.status(job.id)).status is JobStatus.COMPLETED


async def test_wake_ends_the_idle_pause(cg) -> None:
    worker = Worker(cg.pipeline, concurrency=1)
    waiter = asyncio.create_task(worker.wait_for_work(60))
    await asyncio.sleep(0)
    worker.wake()
    assert await asyncio.wait_for(waiter, 5) is True
    assert await worker.wait_for_work(0.01) is False


async def test_signals_set_the_stop_event_and_are_removed_after() -> None:
    stop = asyncio.Event()
    seen: list[signal.Signals] = []
    with stop_on_signals(stop, on_signal=seen.append):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 5)
    assert seen == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)


async def test_signal_handling_can_be_turned_off() -> None:
    before = signal.getsignal(signal.SIGINT)
    stop = asyncio.Event()
    with stop_on_signals(stop, enabled=False):
        assert signal.getsignal(signal.SIGINT) is before
    assert not stop.is_set()


async def test_recover_warms_the_backend_only_when_it_has_claimed_a_job(
    cg, llm: Hanging, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`contentgen jobs recover` with nothing to do must not load a model (the embedded one
    costs a second); with work it warms up once, before the first job runs."""
    real = cg.pipeline.warm
    events: list[str] = []

    async def warm() -> None:
        events.append("warm")
        await real()

    monkeypatch.setattr(cg.pipeline, "warm", warm)
    idle = await asyncio.wait_for(Worker(cg.pipeline, concurrency=2, poll=0.01).run(once=True), 10)
    assert idle.runs == 0 and events == []
    for i in range(3):
        await queued(cg, f"Solar panels for small offices {i}")
    busy = await asyncio.wait_for(Worker(cg.pipeline, concurrency=2, poll=0.01).run(once=True), 10)
    assert busy.by_status["completed"] == 3 and events == ["warm"]
    # a long-running worker warms up at start, before any job exists
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(Worker(cg.pipeline, concurrency=1, poll=0.01).run(stop), 10)
    assert events == ["warm", "warm"]
