"""One job end to end: prompt (IM) -> model -> analysis -> result + usage, atomically."""

from __future__ import annotations

import asyncio
import time
import uuid

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
from contentgen.storage.base import Storage

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

    async def run(self, job: Job, setup: EffectiveSetup | None = None) -> Job:
        """Run a pending job to completed or failed; never raises for a job-level error.

        ``setup`` lets a batch resolve each client's strategy once for many jobs."""
        request = job.params
        log_started(job)
        try:
            built = await self.instructions.build(request.prompt_request(), setup)
        except Exception as exc:
            return await self._fail(job.id, exc)
        if not await self.storage.start_job(
            job.id, built.metadata.strategy_version, built.metadata.template_version
        ):
            current = await self.storage.get_job(job.id)
            return current if current is not None else job
        return await self.write(job, built)

    async def prepare(
        self, job: Job, setup: EffectiveSetup | None
    ) -> tuple[Job, BuiltPrompt | None]:
        """Build the prompt of a job that is not stored yet (a batch row).

        Returns the job as it should be stored: in_progress with the setup's versions, or
        failed with the reason when no prompt could be built. A batch stores each row's job
        once, already started, instead of creating then starting it (one storage round trip
        less per row). The prompt cache is skipped: distinct rows never hit it."""
        log_started(job)
        try:
            built = await self.instructions.build(job.params.prompt_request(), setup, cache=False)
        except Exception as exc:
            error = readable_error(exc)
            log.warning("content_request_failed", job_id=str(job.id), error=error)
            return job.model_copy(update={"status": JobStatus.FAILED, "error": error}), None
        update = {
            "status": JobStatus.IN_PROGRESS,
            "strategy_version": built.metadata.strategy_version,
            "template_version": built.metadata.template_version,
        }
        return job.model_copy(update=update), built

    async def write(
        self, job: Job, built: BuiltPrompt, *, call_slots: asyncio.Semaphore | None = None
    ) -> Job:
        """Call the model for a started (in_progress) job and store the result or failure.

        The second half of ``run``; a batch calls it for jobs it stored already started, with
        ``call_slots`` bounding the model calls in flight across its jobs."""
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
            return await self._fail(job.id, exc)
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
        done = await self.storage.complete_job(job.id, result, usage)
        log.info("content_request_completed", job_id=str(job.id), word_count=words,
                 cost=result.metadata.generation_cost, duration_ms=elapsed_ms)  # fmt: skip
        return done

    async def _fail(self, job_id: uuid.UUID, exc: BaseException) -> Job:
        error = readable_error(exc)
        log.warning("content_request_failed", job_id=str(job_id), error=error)
        return await self.storage.fail_job(job_id, error, [])
