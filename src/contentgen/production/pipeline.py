"""One job end to end: prompt (IM) -> model -> analysis -> result + usage, atomically."""

from __future__ import annotations

import asyncio
import time

from contentgen.errors import ContentgenError
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.llm.base import Attempt
from contentgen.llm.router import Router
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
        router: Router,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.instructions = instructions
        self.router = router

    async def run(self, job: Job, setup: EffectiveSetup | None = None) -> Job:
        """Run a pending job to completed or failed; never raises for a job-level error.

        ``setup`` lets a batch resolve each client's strategy once for many jobs."""
        request = job.params
        log_started(job)
        try:
            built = await self.instructions.build(request.prompt_request(), setup)
        except Exception as exc:
            return await self._fail(job, exc)
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
        attempts: list[Attempt] = []
        try:
            # Chooses the route and warms its backend (imports, model load) before the clock
            # starts: generation_time_ms is the generation.
            await self.router.check(request)
            call = self.router.bind(request, slots=call_slots)
            started = time.perf_counter()
            text, calls = await write_piece(call, built, request.topic, attempts_sink=attempts)
        except Exception as exc:
            return await self._fail(job, exc, attempts)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        title = first_heading(text) or make_title(request.topic)
        content = drop_repeats(ensure_title(text, title))
        words = word_count(content)
        used = keywords_used(content, built.plan.keywords)
        last = calls[-1]
        usage = usage_rows(job, attempts)
        notes = str(check_compliance(content, built.plan, words, used))
        if any(c.finish_reason == "length" for c in calls):
            notes += "; truncated: the model stopped at its output limit (finish_reason=length)"
        if any(a.cost is None for a in attempts):
            notes += "; cost unknown: no price for " + ", ".join(
                sorted({a.model for a in attempts if a.cost is None}))
        result = ContentResult(
            content=content,
            title=title,
            metadata=ResultMetadata(
                word_count=words,
                keywords_used=used,
                llm_provider=last.provider,
                model=last.model,
                generation_cost=round(sum(a.cost or 0.0 for a in attempts), 10),
                generation_time_ms=elapsed_ms,
                token_usage=TokenUsage(
                    input=sum(a.input_tokens for a in attempts),
                    output=sum(a.output_tokens for a in attempts),
                ),
                seo_notes=notes,
            ),
        )
        done = await self.storage.complete_job(job.id, result, usage)
        log.info("content_request_completed", job_id=str(job.id), word_count=words,
                 cost=result.metadata.generation_cost, duration_ms=elapsed_ms)  # fmt: skip
        return done

    async def _fail(
        self, job: Job, exc: BaseException, attempts: list[Attempt] | None = None
    ) -> Job:
        error = readable_error(exc)
        log.warning("content_request_failed", job_id=str(job.id), error=error)
        return await self.storage.fail_job(job.id, error, usage_rows(job, attempts or []))


def usage_rows(job: Job, attempts: list[Attempt]) -> list[LlmUsage]:
    """One usage row per provider attempt, failed ones included (issue 7, point 5).

    A price the catalogue does not know is stored as 0.0 until storage keeps NULL costs
    (``cost_nanos``); the result's ``seo_notes`` says the cost is unknown."""
    return [
        LlmUsage(
            job_id=job.id, client_id=job.client_id, provider=a.provider, model=a.model,
            input_tokens=a.input_tokens, output_tokens=a.output_tokens,
            cost=a.cost if a.cost is not None else 0.0, latency_ms=a.latency_ms,
        )
        for a in attempts
    ]  # fmt: skip
