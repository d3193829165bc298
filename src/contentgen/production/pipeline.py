"""One job end to end: prompt (IM) -> model -> analysis -> result + usage, atomically."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

from contentgen.errors import ContentgenError
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.llm.registry import BackendRegistry, choose_model
from contentgen.logs import get_logger
from contentgen.models import (
    ContentResult,
    Job,
    JobStatus,
    LlmUsage,
    ResultMetadata,
    TokenUsage,
)
from contentgen.production.analysis import (
    check_compliance,
    drop_repeats,
    ensure_title,
    first_heading,
    keywords_used,
    make_title,
    word_count,
)
from contentgen.production.ratelimit import BoundedLLM, RateLimits
from contentgen.production.writer import write_piece
from contentgen.settings import Settings
from contentgen.storage.base import ClaimedJob, Lease, Storage, new_holder

log = get_logger()


def log_started(job: Job) -> None:
    log.info("content_request_started", job_id=str(job.id), client_id=str(job.client_id),
             content_type=job.params.content_type.value)  # fmt: skip


def readable_error(exc: BaseException) -> str:
    if isinstance(exc, ContentgenError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        instructions: InstructionsModule,
        llms: BackendRegistry,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.instructions = instructions
        self.llms = llms
        self.limits = RateLimits(settings.rpm_limits)
        self.holder = new_holder()

    async def claim(self, job_id: uuid.UUID) -> ClaimedJob | None:
        """Claim one pending job by id under this pipeline's holder name."""
        claimed = await self.storage.claim_jobs(
            self.holder, limit=1, lease_seconds=self.settings.lease_seconds,
            max_attempts=self.settings.max_attempts, job_id=job_id,
        )  # fmt: skip
        return claimed[0] if claimed else None

    async def run(self, job: Job, setup: EffectiveSetup | None = None) -> Job:
        """Claim a pending job and run it to completed or failed; never raises for a job-level
        error. ``setup`` lets a batch resolve each client's strategy once for many jobs."""
        claimed = await self.claim(job.id)
        if claimed is None:  # someone else has it (or it is finished)
            current = await self.storage.get_job(job.id)
            return current if current is not None else job
        return await self.run_claimed(claimed, setup)

    async def run_claimed(
        self,
        claimed: ClaimedJob,
        setup: EffectiveSetup | None = None,
        *,
        call_slots: asyncio.Semaphore | None = None,
        cache: bool = True,
    ) -> Job:
        """Build the prompt of a claimed job, call the model and finish it under its lease,
        heartbeating while it runs. ``call_slots`` bounds the model calls in flight across a
        batch's jobs; ``cache=False`` skips the prompt cache (distinct batch rows never hit)."""
        log_started(claimed.job)
        async with self._heartbeats(claimed.lease) as lease:
            try:
                built = await self.instructions.build(
                    claimed.job.params.prompt_request(), setup, cache=cache
                )
            except Exception as exc:
                return await self.fail(claimed, exc, lease=lease())
            return await self.write(claimed, built, lease, call_slots=call_slots)

    @contextlib.asynccontextmanager
    async def _heartbeats(self, lease: Lease) -> AsyncIterator[Callable[[], Lease]]:
        """Extend the lease every third of its length while the body runs; yields a getter
        of the current lease."""
        current = lease
        every = self.settings.lease_seconds / 3

        async def beat() -> None:
            nonlocal current
            while True:
                await asyncio.sleep(every)
                renewed = await self.storage.heartbeat(current, self.settings.lease_seconds)
                if renewed is None:
                    log.warning("lease_lost", job_id=str(lease.job_id))
                    return
                current = renewed

        task = asyncio.create_task(beat(), name=f"heartbeat-{lease.job_id}")
        try:
            yield lambda: current
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def write(
        self,
        claimed: ClaimedJob,
        built: BuiltPrompt,
        lease: Callable[[], Lease],
        *,
        call_slots: asyncio.Semaphore | None = None,
    ) -> Job:
        """Call the model for a claimed job and finish it with the result or failure."""
        job = claimed.job
        request = job.params
        choice = choose_model(
            self.settings, model=request.model, provider=request.llm_provider,
            priority=request.priority.value,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            llm = self.limits.wrap(choice.model, self.llms.get(choice.model))
            if call_slots is not None:
                llm = BoundedLLM(llm, call_slots)
            text, calls = await write_piece(
                llm, choice.model, built, request.topic, local_cap=self.settings.local_max_tokens
            )
        except Exception as exc:
            return await self.fail(claimed, exc, lease=lease())
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        title = first_heading(text) or make_title(request.topic)
        content = drop_repeats(ensure_title(text, title))
        words = word_count(content)
        used = keywords_used(content, built.plan.keywords)
        last = calls[-1]
        usage = [
            LlmUsage(
                job_id=job.id, client_id=job.client_id, provider=c.provider, model=c.model,
                input_tokens=c.input_tokens, output_tokens=c.output_tokens, cost=c.cost,
                latency_ms=c.latency_ms,
            )
            for c in calls
        ]  # fmt: skip
        result = ContentResult(
            content=content,
            title=title,
            metadata=ResultMetadata(
                word_count=words,
                keywords_used=used,
                llm_provider=last.provider,
                model=last.model,
                generation_cost=round(sum(c.cost for c in calls), 10),
                generation_time_ms=elapsed_ms,
                token_usage=TokenUsage(
                    input=sum(c.input_tokens for c in calls),
                    output=sum(c.output_tokens for c in calls),
                ),
                seo_notes=str(check_compliance(content, built.plan, words, used)),
            ),
        )
        done = await self.storage.finish_job(
            lease(), status=JobStatus.COMPLETED, result=result, usage=usage,
            strategy_version=built.metadata.strategy_version,
            template_version=built.metadata.template_version,
        )  # fmt: skip
        if done is None:
            return await self._fenced(job)
        log.info("content_request_completed", job_id=str(job.id), word_count=words,
                 cost=result.metadata.generation_cost, duration_ms=elapsed_ms)  # fmt: skip
        return done

    async def fail(
        self, claimed: ClaimedJob, exc: BaseException | str, *, lease: Lease | None = None
    ) -> Job:
        """Finish a claimed job as failed (the current job if the lease was lost)."""
        error = exc if isinstance(exc, str) else readable_error(exc)
        log.warning("content_request_failed", job_id=str(claimed.job.id), error=error)
        done = await self.storage.finish_job(
            lease or claimed.lease, status=JobStatus.FAILED, error=error
        )
        return done if done is not None else await self._fenced(claimed.job)

    async def _fenced(self, job: Job) -> Job:
        """The lease was lost (taken over or cancelled): nothing was written; the job as it
        is now."""
        log.warning("content_request_fenced", job_id=str(job.id))
        current = await self.storage.get_job(job.id)
        return current if current is not None else job
