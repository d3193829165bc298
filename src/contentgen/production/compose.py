"""The model-calling step of a job: a built prompt in, a ``ContentResult`` out.

This is the one function the job lifecycle (``pipeline.py``) calls the model through; the
writer behind it (generation modes, repair) can change without touching claims, leases or
storage. Every provider attempt is appended to ``attempts`` as it happens, so a failure half
way still leaves what was paid for in the caller's hands (stored as usage rows).
"""

from __future__ import annotations

import asyncio
import time

from contentgen.instructions.builder import BuiltPrompt
from contentgen.llm.base import Attempt, TextCallback
from contentgen.llm.router import Router
from contentgen.models import (
    ContentRequest,
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
from contentgen.production.writer import write_piece


async def write_content(
    router: Router,
    request: ContentRequest,
    built: BuiltPrompt,
    *,
    attempts: list[Attempt],
    slots: asyncio.Semaphore | None = None,
    on_text: TextCallback | None = None,
) -> ContentResult:
    """Write the piece for ``request`` and measure it. Raises the provider's error (its
    attempts are in ``attempts`` already). ``slots`` bounds calls in flight (a batch);
    ``on_text`` receives the text as it is written (once the writer streams)."""
    # Chooses the route and warms its backend (imports, model load) before the clock starts:
    # generation_time_ms is the generation.
    await router.check(request)
    call = router.bind(request, slots=slots)
    started = time.perf_counter()
    text, calls = await write_piece(call, built, request.topic, attempts_sink=attempts)
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    title = first_heading(text) or make_title(request.topic)
    content = drop_repeats(ensure_title(text, title))
    words = word_count(content)
    used = keywords_used(content, built.plan.keywords)
    last = calls[-1]
    notes = str(check_compliance(content, built.plan, words, used))
    if any(c.finish_reason == "length" for c in calls):
        notes += "; truncated: the model stopped at its output limit (finish_reason=length)"
    unpriced = sorted({a.model for a in attempts if a.cost is None})
    if unpriced:
        notes += "; cost unknown: no price for " + ", ".join(unpriced)
    return ContentResult(
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
