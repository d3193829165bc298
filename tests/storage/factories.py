"""Small builders of valid models for the storage tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contentgen.models import (
    ContentRequest,
    ContentResult,
    ContentType,
    Job,
    JobStatus,
    LlmUsage,
    PromptRequest,
    ResultMetadata,
    TokenUsage,
)
from contentgen.storage import Storage
from contentgen.storage.base import ClaimedJob

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def request_for(client_id: uuid.UUID, topic: str = "Spring gardening tips") -> ContentRequest:
    return ContentRequest(
        topic=topic,
        content_type=ContentType.BLOG,
        client_id=client_id,
        keywords=["garden", "spring"],
    )


def make_job(client_id: uuid.UUID, **fields: object) -> Job:
    return Job.model_validate({"params": request_for(client_id), **fields})


def make_result(content: str = "# Title\n\nBody text.") -> ContentResult:
    return ContentResult(
        content=content,
        title="Title",
        metadata=ResultMetadata(
            word_count=3,
            keywords_used=["garden"],
            llm_provider="openai",
            model="gpt-4o-mini",
            generation_cost=0.0012,
            generation_time_ms=850,
            token_usage=TokenUsage(input=120, output=340),
            seo_notes="ok",
        ),
    )


def make_usage(job: Job, **fields: object) -> LlmUsage:
    values: dict[str, object] = {
        "job_id": job.id,
        "client_id": job.client_id,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 120,
        "output_tokens": 340,
        "cost": 0.0012,
        "latency_ms": 850,
    }
    return LlmUsage.model_validate({**values, **fields})


def prompt_request_for(client_id: uuid.UUID) -> PromptRequest:
    return PromptRequest(
        topic="Local plumbing guide", content_type=ContentType.LOCAL, client_id=client_id
    )


async def claim(storage: Storage, job: Job, holder: str = "test:1:a", **kw: Any) -> ClaimedJob:
    """Claim this one job (it must be claimable)."""
    args: dict[str, Any] = {"limit": 1, "lease_seconds": 60, "max_attempts": 3, **kw}
    claimed = await storage.claim_jobs(holder, job_id=job.id, **args)
    assert len(claimed) == 1, f"job {job.id} was not claimable"
    return claimed[0]


async def finish(
    storage: Storage, claimed: ClaimedJob, usage: Sequence[LlmUsage] = (), **kw: Any
) -> Job | None:
    """Complete a claimed job with ``make_result()`` (or what ``kw`` says)."""
    args: dict[str, Any] = {"status": JobStatus.COMPLETED, "result": make_result(), **kw}
    return await storage.finish_job(claimed.lease, usage=usage, **args)
