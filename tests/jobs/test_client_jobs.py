"""The client facade on the lifecycle: wait honours its timeout, a cancelled generate cancels
its job at once, submitted jobs go through the claim like any other."""

from __future__ import annotations

import asyncio

import pytest

from contentgen.models import JobFilter, JobStatus

from .conftest import Hanging, MakeClient, queued

TOPIC = "Solar panels for small offices"


async def _bounded(awaitable, seconds: float = 10.0) -> asyncio.Task:
    """Run ``awaitable`` for at most ``seconds``; the task, done (a broken timeout would
    otherwise hang the test instead of failing it)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task not in done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pytest.fail(f"still waiting after {seconds} s")
    return task


async def test_wait_honours_its_timeout_for_a_queued_job(cg) -> None:
    job = await queued(cg)  # nobody runs it
    task = await _bounded(cg.wait(job.id, timeout=0.2))
    assert isinstance(task.exception(), TimeoutError)
    assert (await cg.status(job.id)).status is JobStatus.PENDING


async def test_wait_honours_its_timeout_while_the_job_runs(cg, llm: Hanging) -> None:
    llm.hold = True
    job_id = await cg.submit(topic=TOPIC, client="acme")
    await llm.started.wait()
    task = await _bounded(cg.wait(job_id, timeout=0.2))
    assert isinstance(task.exception(), TimeoutError)
    assert (await cg.status(job_id)).status is JobStatus.IN_PROGRESS  # it goes on
    llm.release()
    done = await cg.wait(job_id, timeout=10)
    assert done.status is JobStatus.COMPLETED


async def test_generate_timeout_leaves_the_job_running(cg, llm: Hanging) -> None:
    llm.hold = True
    task = await _bounded(cg.generate(topic=TOPIC, client="acme", timeout=0.2))
    assert isinstance(task.exception(), TimeoutError)
    [job] = await cg.jobs(JobFilter(limit=5))
    assert job.status is JobStatus.IN_PROGRESS
    llm.release()
    assert (await cg.wait(job.id, timeout=10)).status is JobStatus.COMPLETED


async def test_cancelling_generate_cancels_its_job_at_once(cg, llm: Hanging) -> None:
    """Ctrl-C during generate (its task cancelled): the model call stops now and the job ends
    cancelled, not left in_progress."""
    llm.hold = True
    task = asyncio.create_task(cg.generate(topic=TOPIC, client="acme"))
    await llm.started.wait()
    task.cancel()
    finished = await _bounded(asyncio.gather(task, return_exceptions=True))
    assert isinstance(finished.result()[0], asyncio.CancelledError)
    assert llm.cancelled == 1
    [job] = await cg.jobs(JobFilter(limit=5))
    assert job.status is JobStatus.CANCELLED


async def test_a_submitted_job_another_runner_claimed_first_runs_there_once(
    make_client: MakeClient, cg, llm: Hanging
) -> None:
    other = make_client()
    await other.open()
    job_id = await cg.submit(topic=TOPIC, client="acme")
    [claimed] = await other.pipeline.claim(job_id=job_id)  # before our runner's turn
    ran = await other.pipeline.run_claimed(claimed)
    done = await cg.wait(job_id, timeout=10)
    assert done.status is JobStatus.COMPLETED and done == ran.job
    assert llm.calls == 1


async def test_run_worker_runs_queued_jobs_then_stops(cg, llm: Hanging) -> None:
    jobs = [await queued(cg, f"{TOPIC} number {i}") for i in range(5)]
    stats = await _bounded(cg.run_worker(2, once=True))
    assert stats.result().by_status["completed"] == 5
    for job in jobs:
        assert (await cg.status(job.id)).status is JobStatus.COMPLETED
    assert llm.calls == 5
