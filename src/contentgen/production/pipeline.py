"""One job end to end: prompt (IM) -> model -> analysis -> result + usage, atomically."""

from __future__ import annotations

import time
import uuid

from contentgen.errors import ContentgenError
from contentgen.instructions.builder import InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.llm.registry import BackendRegistry, choose_model
from contentgen.logs import get_logger
from contentgen.models import (
    ContentResult,
    Job,
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
from contentgen.production.ratelimit import RateLimits
from contentgen.production.writer import write_piece
from contentgen.settings import Settings
from contentgen.storage.base import Storage

log = get_logger()


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
        log.info("content_request_started", job_id=str(job.id), client_id=str(job.client_id),
                 content_type=request.content_type.value)  # fmt: skip
        try:
            built = await self.instructions.build(request.prompt_request(), setup)
        except Exception as exc:
            return await self._fail(job.id, exc)
        if not await self.storage.start_job(
            job.id, built.metadata.strategy_version, built.metadata.template_version
        ):
            current = await self.storage.get_job(job.id)
            return current if current is not None else job
        choice = choose_model(
            self.settings, model=request.model, provider=request.llm_provider,
            priority=request.priority.value,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            llm = self.limits.wrap(choice.model, self.llms.get(choice.model))
            text, calls = await write_piece(
                llm, choice.model, built, request.topic, local_cap=self.settings.local_max_tokens
            )
        except Exception as exc:
            return await self._fail(job.id, exc)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        title = first_heading(text) or make_title(request.topic)
        content = drop_repeats(ensure_title(text, title))
        words = word_count(content)
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
                keywords_used=keywords_used(content, built.plan.keywords),
                llm_provider=last.provider,
                model=last.model,
                generation_cost=round(sum(c.cost for c in calls), 10),
                generation_time_ms=elapsed_ms,
                token_usage=TokenUsage(
                    input=sum(c.input_tokens for c in calls),
                    output=sum(c.output_tokens for c in calls),
                ),
                seo_notes=str(check_compliance(content, built.plan, words)),
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
