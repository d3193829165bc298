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
from contentgen.llm.budget import CallBudget
from contentgen.llm.router import Router
from contentgen.models import ContentRequest, ContentResult, Job, LlmUsage
from contentgen.production.writer import REPAIR_ROUNDS, piece_result, write_piece


async def write_content(
    router: Router,
    request: ContentRequest,
    built: BuiltPrompt,
    *,
    attempts: list[Attempt],
    slots: asyncio.Semaphore | None = None,
    on_text: TextCallback | None = None,
    repair_rounds: int = REPAIR_ROUNDS,
    budget: CallBudget | None = None,
) -> ContentResult:
    """Write the piece for ``request`` (the writer: modes, measures, repairs) and make it the
    job's result. Raises the provider's error, or ``NoncompliantPiece`` (every attempt made is
    in ``attempts`` already). ``slots`` bounds calls in flight (a batch); ``on_text`` receives
    the first draft as it is written; ``budget`` holds money before every paid attempt."""
    # Chooses the route and warms its backend (imports, model load) before the clock starts:
    # generation_time_ms is the generation.
    await router.check(request)
    call = router.bind(request, slots=slots, budget=budget)
    started = time.perf_counter()
    piece = await write_piece(call, built, request, on_text=on_text, attempts_sink=attempts,
                              repair_rounds=repair_rounds)  # fmt: skip
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    return piece_result(piece, attempts, built.plan.keywords, elapsed_ms)


def usage_rows(job: Job, attempts: list[Attempt]) -> list[LlmUsage]:
    """One usage row per provider attempt, failed ones included (issue 7, point 5), with
    every token kind, how it ended and its cost: None (NULL) when the price is unknown, never
    a silent 0 (the result's ``seo_notes`` and ``unpriced_calls`` say so too)."""
    return [
        LlmUsage(
            job_id=job.id, client_id=job.client_id, provider=a.provider, model=a.model,
            input_tokens=a.input_tokens, output_tokens=a.output_tokens,
            cached_tokens=a.cached_tokens, reasoning_tokens=a.reasoning_tokens, cost=a.cost,
            latency_ms=a.latency_ms, finish_reason=a.finish_reason, error=a.error,
        )
        for a in attempts
    ]  # fmt: skip
