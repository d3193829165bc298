"""One path for every job: claim -> prompt after the claim -> model under heartbeats -> finish
under the lease (fenced runners write nothing), every paid attempt stored as usage."""

from __future__ import annotations

import asyncio

import pytest

from contentgen.errors import Conflict, ProviderError
from contentgen.models import JobStatus
from contentgen.production.lease import settle
from contentgen.production.pipeline import RunControl

from .conftest import Hanging, MakeClient, queued


async def test_prompt_is_built_after_the_claim(cg, llm: Hanging) -> None:
    job = await queued(cg)
    await cg.set_strategy("acme", {"tone": {"voice": "distinctly cheeky"}})
    version = (await cg.get_strategy("acme")).version
    run = await cg.pipeline.run(job.id)
    assert run is not None and run.job.status is JobStatus.COMPLETED
    assert run.job.strategy_version == version  # the setup as it was when the job ran
    assert "distinctly cheeky" in llm.history[-1][1]


async def test_a_job_is_run_by_one_runner_only(make_client: MakeClient, cg) -> None:
    job = await queued(cg)
    other = make_client()
    await other.open()
    first = await cg.pipeline.claim(job_id=job.id)
    assert first and await other.pipeline.run(job.id) is None  # held: not runnable there
    done = await cg.pipeline.run_claimed(first[0])
    assert done.job.status is JobStatus.COMPLETED
    assert await other.pipeline.run(job.id) is None  # finished: not runnable either
    assert len(await cg.storage.list_usage(job.id)) == 1


async def test_heartbeats_keep_a_long_call_leased(make_client: MakeClient, cg, llm) -> None:
    """A call longer than the lease is not taken over: the runner renews it."""
    job = await queued(cg)
    other = make_client()
    await other.open()
    llm.hold = True
    task = asyncio.create_task(cg.pipeline.run(job.id))
    await llm.started.wait()
    for _ in range(4):  # well past the 0.3 s lease
        await asyncio.sleep(0.3)
        assert await other.pipeline.claim(job_id=job.id) == []
    llm.release()
    run = await task
    assert run is not None and run.job.status is JobStatus.COMPLETED and not run.fenced
    attempts = await cg.storage.job_attempts(job.id)
    assert [a.attempt for a in attempts] == [1]


def _first_attempt_fails_then_hangs(llm: Hanging) -> None:
    """The first attempt fails (a paid 503), the retry hangs until released or cancelled."""
    llm.enqueue(ProviderError("HTTP 503", provider="openai", model="gpt-4o-mini",
                              kind="server"))  # fmt: skip
    original = llm.complete

    async def complete(prompt, **kw):
        if llm.calls >= 1:
            llm.hold = True
        return await original(prompt, **kw)

    llm.complete = complete  # type: ignore[method-assign]


async def _stopped_with_one_usage_row(cg, task: asyncio.Task, job_id, status: JobStatus) -> None:
    """Cancel the run's task: it raises CancelledError, the job ends ``status`` and keeps the
    one paid attempt it made."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await cg.storage.get_job(job_id)
    assert after is not None and after.status is status
    assert len(await cg.storage.list_usage(job_id)) == 1


async def test_a_lost_lease_stops_the_call_and_keeps_only_what_was_paid(
    cg, llm: Hanging
) -> None:
    """Cancelled by someone else mid-call: the call stops at once, the job stays cancelled,
    and the attempt already paid for is stored (issue 7 point 5: whatever the outcome)."""
    job = await queued(cg)
    _first_attempt_fails_then_hangs(llm)
    task = asyncio.create_task(cg.pipeline.run(job.id))
    await llm.started.wait()
    await cg.storage.cancel_job(job.id)  # someone cancels it: the runner is fenced out
    run = await asyncio.wait_for(task, timeout=10)
    assert run is not None and run.fenced
    assert llm.cancelled == 1  # the model call was stopped, not waited for
    assert run.job.status is JobStatus.CANCELLED
    usage = await cg.storage.list_usage(job.id)
    assert [(u.error is not None, u.attempt) for u in usage] == [(True, 1)]


async def test_a_piece_refused_at_finish_still_leaves_its_usage(cg, llm: Hanging) -> None:
    """Cancelled between the model's answer and the final write: the finish is fenced out,
    the paid call is stored all the same and the job stays cancelled."""
    job = await queued(cg)
    original = cg.storage.finish_job

    async def cancelled_first(*args, **kwargs):
        await cg.storage.cancel_job(job.id)
        return await original(*args, **kwargs)

    cg.storage.finish_job = cancelled_first  # type: ignore[method-assign]
    run = await cg.pipeline.run(job.id)
    assert run is not None and run.fenced and run.job.status is JobStatus.CANCELLED
    usage = await cg.storage.list_usage(job.id)
    assert len(usage) == llm.calls == 1 and usage[0].cost_nanos is not None


async def test_a_runner_whose_lease_was_taken_over_cannot_finish(
    make_client: MakeClient, cg, llm: Hanging, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No heartbeat (a frozen process): the lease expires, another runner takes the job over
    and completes it; the first one's result is refused, its paid call is stored."""
    job = await queued(cg)
    other = make_client()
    await other.open()

    async def frozen(lease, seconds):  # heartbeats never reach the database
        return lease

    monkeypatch.setattr(cg.storage, "heartbeat", frozen)
    llm.hold = True
    first = asyncio.create_task(cg.pipeline.run(job.id))
    await llm.started.wait()
    await asyncio.sleep(0.4)  # the 0.3 s lease expires
    taken = await other.pipeline.claim(job_id=job.id)
    assert taken and taken[0].lease.token == 2
    llm.release()
    late = await first
    assert late is not None and late.fenced
    second = await other.pipeline.run_claimed(taken[0])
    assert second.job.status is JobStatus.COMPLETED
    usage = await cg.storage.list_usage(job.id)
    assert sorted(u.attempt for u in usage) == [1, 2]  # each runner's paid call, once


async def test_every_paid_attempt_is_stored_when_the_job_fails(cg, llm: Hanging) -> None:
    def down() -> ProviderError:
        return ProviderError("HTTP 503", provider="openai", model="gpt-4o-mini", kind="server")

    llm.enqueue(*(down() for _ in range(30)))  # every model of the route, every retry
    job = await queued(cg)
    run = await cg.pipeline.run(job.id)
    assert run is not None and run.job.status is JobStatus.FAILED
    assert isinstance(run.failure, ProviderError)
    usage = await cg.storage.list_usage(job.id)
    assert llm.calls >= 3 and len(usage) == llm.calls  # one row per attempt made


@pytest.mark.parametrize(("on_cancel", "status"), [("cancel", JobStatus.CANCELLED),
                                                   ("release", JobStatus.PENDING)])
async def test_a_cancelled_run_stops_at_once_and_ends_as_told(
    cg, llm: Hanging, on_cancel: str, status: JobStatus
) -> None:
    job = await queued(cg)
    control = RunControl(on_cancel)  # type: ignore[arg-type]
    _first_attempt_fails_then_hangs(llm)
    task = asyncio.create_task(cg.pipeline.run(job.id, control=control))
    await llm.started.wait()
    await _stopped_with_one_usage_row(cg, task, job.id, status)  # the failed attempt before
    assert llm.cancelled == 1
    if on_cancel == "release":
        assert await cg.pipeline.claim(job_id=job.id)  # handed back: runnable again


@pytest.mark.parametrize("on_cancel", ["cancel", "release"])
async def test_a_stop_after_someone_cancelled_still_stores_the_paid_attempt(
    cg, llm: Hanging, on_cancel: str
) -> None:
    """The job is cancelled elsewhere, then this run is stopped before its heartbeat noticed:
    its own cancel/release is fenced out, the attempt it paid for is stored anyway."""
    job = await queued(cg)
    _first_attempt_fails_then_hangs(llm)
    task = asyncio.create_task(cg.pipeline.run(job.id, control=RunControl(on_cancel)))  # type: ignore[arg-type]
    await llm.started.wait()
    await cg.storage.cancel_job(job.id)
    await _stopped_with_one_usage_row(cg, task, job.id, JobStatus.CANCELLED)


async def test_a_piece_written_before_the_cancel_is_kept(cg, llm: Hanging) -> None:
    """A cancel that arrives once the piece exists does not throw the paid piece away."""
    job = await queued(cg)
    gate = asyncio.Event()
    original = cg.storage.finish_job

    async def slow_finish(*args, **kwargs):
        gate.set()
        await asyncio.sleep(0.05)
        return await original(*args, **kwargs)

    cg.storage.finish_job = slow_finish  # type: ignore[method-assign]
    task = asyncio.create_task(cg.pipeline.run(job.id, control=RunControl("cancel")))
    await gate.wait()  # finishing: the final write is under way
    await _stopped_with_one_usage_row(cg, task, job.id, JobStatus.COMPLETED)


async def test_settle_finishes_the_write_then_reraises_the_cancel() -> None:
    done: list[str] = []

    async def write() -> str:
        await asyncio.sleep(0.05)
        done.append("written")
        return "ok"

    task = asyncio.create_task(settle(write()))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()  # twice: still finishes
    with pytest.raises(asyncio.CancelledError):
        await task
    assert done == ["written"]


async def test_cancel_and_retry(cg, llm: Hanging) -> None:
    job = await queued(cg)
    cancelled = await cg.cancel(job.id)
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(Conflict):
        await cg.cancel(job.id)
    retried = await cg.retry(job.id)  # runs again here (a new attempt)
    assert retried.status is JobStatus.PENDING
    done = await cg.wait(job.id, timeout=10)
    assert done.status is JobStatus.COMPLETED
    with pytest.raises(Conflict):
        await cg.retry(job.id)  # completed: refused
    with pytest.raises(Conflict):
        await cg.cancel(job.id)
