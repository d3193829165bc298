"""The one path every job runs through, whoever started it (``generate``, a worker, a batch,
the server): **claim** (a lease) -> build the prompt -> call the model while **heartbeating**
-> **finish** under the lease (result, status and usage rows in one transaction).

- The prompt is built after the claim, so a job never runs on a setup read before it was
  its turn.
- A lost lease (the job was taken over after an expiry, or cancelled) stops the work at once;
  the store fences the runner out, so nothing of it is written but the usage rows of the calls
  it paid for (``store_fenced_usage``): money spent is recorded whatever became of the job.
- A cancelled run (a worker stopping, Ctrl-C) stops the model call at once and ends the job as
  its ``RunControl`` says: ``release`` (back to pending for another runner, attempt not
  counted) or ``cancel`` (``cancelled``, with the usage of the calls already paid). A piece
  that was already written is stored ``completed`` either way. The final write is shielded
  from cancellation (``settle``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from contentgen.budgets import job_budget
from contentgen.errors import ContentgenError
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.llm.base import Attempt, TextCallback
from contentgen.llm.interrupted import collecting
from contentgen.llm.router import Router
from contentgen.logs import get_logger
from contentgen.models import ContentResult, Job, JobStatus, LlmUsage
from contentgen.production.compose import usage_rows, write_content
from contentgen.production.lease import LeaseKeeper, settle
from contentgen.settings import Settings
from contentgen.storage.base import ClaimedJob, Lease, Storage, new_holder
from contentgen.tracing import Tracing, span

log = get_logger()

#: What the error of a job cancelled while it ran says.
CANCELLED = "cancelled while it ran"


def log_started(job: Job) -> None:
    log.info("content_request_started", job_id=str(job.id), client_id=str(job.client_id),
             content_type=job.params.content_type.value)  # fmt: skip


def readable_error(exc: BaseException) -> str:
    if isinstance(exc, ContentgenError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass
class RunControl:
    """How a run ends if its task is cancelled: ``release`` hands the job back (a worker
    stopping), ``cancel`` ends it ``cancelled`` (the user asked). May change while it runs."""

    on_cancel: Literal["release", "cancel"] = "release"


@dataclass(frozen=True)
class JobRun:
    """A finished run: the job as stored now; ``failure`` the error it failed with (provider
    errors carry ``kind``); ``fenced`` when the lease was lost: nothing was written but the
    usage of the calls the run paid for."""

    job: Job
    failure: BaseException | None = None
    fenced: bool = False


@dataclass(frozen=True)
class _Outcome:
    built: BuiltPrompt | None
    result: ContentResult | None = None
    failure: BaseException | None = None


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        instructions: InstructionsModule,
        router: Router,
        *,
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.instructions = instructions
        self.router = router
        #: This runner's name in leases: ``host:pid:random``.
        self.holder = holder or new_holder()
        #: OpenTelemetry spans of each job (``CONTENTGEN_TRACING``; ``contentgen.tracing``).
        self.tracing = Tracing.from_settings(settings)

    async def warm(self) -> None:
        """Load the default route's backend (imports, sessions) before claiming: a first job
        must not spend its lease blocked in imports. Problems are the jobs' to report."""
        try:
            await self.router.check()
        except Exception as exc:
            log.info("warm_up_skipped", error=readable_error(exc))

    async def claim(self, *, limit: int = 1, job_id: uuid.UUID | None = None) -> list[ClaimedJob]:
        """Claim up to ``limit`` runnable jobs (pending, or under an expired lease), oldest
        first; ``job_id`` claims only that one.

        Never cut off half-way: a claim made in the database when a cancellation came (its
        answer still on the way) is handed back before the cancellation goes on, so no job
        is left held by a runner that is gone."""
        take = asyncio.ensure_future(self.storage.claim_jobs(
            self.holder, limit=limit, lease_seconds=self.settings.lease_seconds,
            max_attempts=self.settings.max_attempts, job_id=job_id,
        ))  # fmt: skip
        try:
            return await settle(take)
        except asyncio.CancelledError:
            if take.done() and not take.cancelled() and take.exception() is None:
                for claimed in take.result():
                    with contextlib.suppress(Exception):
                        await settle(self.storage.release_job(claimed.lease))
            raise

    async def run(
        self, job_id: uuid.UUID, *, control: RunControl | None = None,
        on_text: TextCallback | None = None,
    ) -> JobRun | None:  # fmt: skip
        """Claim this job and run it; None when it is not runnable (another runner holds it
        under a live lease, or it is finished)."""
        claimed = await self.claim(job_id=job_id)
        if not claimed:
            return None
        return await self.run_claimed(claimed[0], control=control, on_text=on_text)

    async def run_claimed(
        self,
        claimed: ClaimedJob,
        setup: EffectiveSetup | None = None,
        *,
        call_slots: asyncio.Semaphore | None = None,
        cache: bool = True,
        control: RunControl | None = None,
        on_text: TextCallback | None = None,
    ) -> JobRun:
        """Run a claimed job to its end under its lease; never raises for a job-level error.

        ``setup`` lets a batch resolve each client's strategy once; ``call_slots`` bounds the
        model calls in flight across a batch; ``cache=False`` skips the prompt cache."""
        job = claimed.job
        attributes = {"contentgen.content_type": job.params.content_type.value,
                      "contentgen.attempt": claimed.lease.attempt}  # fmt: skip
        with self.tracing.job(job.id, job.client_id, **attributes) as job_span:
            run = await self._run_claimed(claimed, setup, call_slots=call_slots, cache=cache,
                                          control=control, on_text=on_text)  # fmt: skip
            job_span.set_attributes({"contentgen.status": run.job.status.value,
                                     "contentgen.fenced": run.fenced})  # fmt: skip
            return run

    async def _run_claimed(
        self, claimed: ClaimedJob, setup: EffectiveSetup | None, *,
        call_slots: asyncio.Semaphore | None, cache: bool, control: RunControl | None,
        on_text: TextCallback | None,
    ) -> JobRun:  # fmt: skip
        job = claimed.job
        control = control or RunControl()
        log_started(job)
        attempts: list[Attempt] = []
        interrupted: list[Attempt] = []  # made by calls cancelled mid-way (their retries)
        with collecting(interrupted):
            work = asyncio.create_task(
                self._produce(job, setup, attempts, call_slots=call_slots, cache=cache,
                              on_text=on_text),
                name=f"job-{job.id}-work",
            )  # fmt: skip
        keeper = LeaseKeeper(self.storage, claimed.lease, self.settings.lease_seconds)
        try:
            async with keeper:
                waits: set[asyncio.Future[Any]] = {work, keeper.lost}
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            try:
                await settle(self._interrupted(work, keeper.lease, job, control, attempts,
                                               interrupted))  # fmt: skip
            except Exception as exc:  # the lease expires: another runner takes the job up
                log.error("job_interrupt_not_stored", job_id=str(job.id),
                          error=readable_error(exc))  # fmt: skip
            raise
        if not work.done():  # the lease was lost: stop, keep only what was paid for
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            attempts.extend(interrupted)
            await settle(self._keep_paid(keeper.lease, usage_rows(job, attempts)))
            return JobRun(await self._current(job), fenced=True)
        return await settle(self._finish(keeper.lease, job, work.result(), attempts))

    async def _produce(
        self, job: Job, setup: EffectiveSetup | None, attempts: list[Attempt], *,
        call_slots: asyncio.Semaphore | None, cache: bool, on_text: TextCallback | None,
    ) -> _Outcome:  # fmt: skip
        try:
            with span("contentgen.prompt") as prompt_span:
                built = await self.instructions.build(job.params.prompt_request(), setup,
                                                      cache=cache)  # fmt: skip
                prompt_span.set_attributes({
                    "contentgen.strategy_version": built.metadata.strategy_version,
                    "contentgen.template_version": built.metadata.template_version,
                    "contentgen.prompt_chars": len(built.prompt),
                })  # fmt: skip
        except Exception as exc:
            return _Outcome(None, failure=exc)
        try:
            budget = await job_budget(self.storage, job, built.setup.chain)
            result = await write_content(
                self.router, job.params, built, attempts=attempts, slots=call_slots,
                on_text=on_text, repair_rounds=self.settings.repair_rounds, budget=budget,
            )  # fmt: skip
        except Exception as exc:
            return _Outcome(built, failure=exc)
        return _Outcome(built, result=result)

    async def _finish(
        self, lease: Lease, job: Job, outcome: _Outcome, attempts: list[Attempt]
    ) -> JobRun:
        built = outcome.built
        strategy_version = built.metadata.strategy_version if built else None
        template_version = built.metadata.template_version if built else None
        usage = usage_rows(job, attempts)
        status = JobStatus.COMPLETED if outcome.result is not None else JobStatus.FAILED
        with span("contentgen.store", **{"contentgen.status": status.value,
                                         "contentgen.usage_rows": len(usage)}):  # fmt: skip
            return await self._store(lease, job, outcome, usage, strategy_version,
                                     template_version)  # fmt: skip

    async def _store(
        self, lease: Lease, job: Job, outcome: _Outcome, usage: list[LlmUsage],
        strategy_version: int | None, template_version: str | None,
    ) -> JobRun:  # fmt: skip
        if outcome.result is not None:
            done = await self.storage.finish_job(
                lease, status=JobStatus.COMPLETED, result=outcome.result, usage=usage,
                strategy_version=strategy_version, template_version=template_version,
            )  # fmt: skip
            if done is not None:
                meta = outcome.result.metadata
                log.info("content_request_completed", job_id=str(job.id),
                         word_count=meta.word_count, cost=meta.generation_cost,
                         duration_ms=meta.generation_time_ms)  # fmt: skip
        else:
            assert outcome.failure is not None
            error = readable_error(outcome.failure)
            log.warning("content_request_failed", job_id=str(job.id), error=error)
            done = await self.storage.finish_job(
                lease, status=JobStatus.FAILED, error=error, usage=usage,
                strategy_version=strategy_version, template_version=template_version,
            )  # fmt: skip
        if done is None:
            await self._keep_paid(lease, usage)
            return JobRun(await self._current(job), outcome.failure, fenced=True)
        return JobRun(done, outcome.failure)

    async def _interrupted(
        self, work: asyncio.Task[_Outcome], lease: Lease, job: Job, control: RunControl,
        attempts: list[Attempt], interrupted: list[Attempt],
    ) -> None:  # fmt: skip
        """The run was cancelled: stop the work, then store what it came to."""
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        attempts.extend(interrupted)  # (empty unless a call was cut off mid-route)
        if not work.cancelled() and work.exception() is None and (
            work.result().result is not None
        ):
            await self._finish(lease, job, work.result(), attempts)  # written already: keep it
            return
        usage = usage_rows(job, attempts)
        if control.on_cancel == "cancel":
            done = await self.storage.finish_job(
                lease, status=JobStatus.CANCELLED, error=CANCELLED, usage=usage
            )  # fmt: skip
            log.info("content_request_cancelled", job_id=str(job.id), fenced=done is None)
            stored = done is not None
        else:
            stored = await self.storage.release_job(lease, usage=usage)
            log.info("job_released", job_id=str(job.id), released=stored,
                     paid_attempts=len(attempts))  # fmt: skip
        if not stored:
            await self._keep_paid(lease, usage)

    async def _keep_paid(self, lease: Lease, usage: list[LlmUsage]) -> None:
        """This runner was fenced out: store the calls it paid for all the same."""
        if not usage:
            return
        try:
            stored = await self.storage.store_fenced_usage(lease, usage)
        except Exception as exc:  # the job's outcome stands; say what was not recorded
            log.error("fenced_usage_not_stored", job_id=str(lease.job_id), rows=len(usage),
                      error=readable_error(exc))  # fmt: skip
            return
        log.warning("fenced_usage_stored", job_id=str(lease.job_id), rows=stored)

    async def _current(self, job: Job) -> Job:
        """The job as stored now (after this runner was fenced out)."""
        log.warning("content_request_fenced", job_id=str(job.id))
        current = await self.storage.get_job(job.id)
        return current if current is not None else job
