"""Shared types: the reference's "TypeScript Types (Shared)" as pydantic v2 models.

Validation lives here so the CLI, the HTTP server and the library reject the same bad input
with the same message. This module holds the records (jobs, results, usage, attempts); what
comes in (requests, a client's setup) and the checks on it live in ``contentgen.input_models``
and are re-exported from here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from contentgen.input_models import (
    FORBIDDEN_TOPIC_PATTERNS,
    KEYWORD_MAX,
    MAX_KEYWORDS,
    MAX_PRIMARY_KEYWORDS,
    MAX_SECTIONS,
    NAME_MAX,
    RULE_MAX,
    SECTION_MAX,
    STRATEGY_MAX_BYTES,
    TEMPLATE_MAX,
    TONE_MAX,
    TOPIC_MAX,
    TOPIC_MIN,
    Client,
    ContentGuidelines,
    ContentPreference,
    ContentRequest,
    ContentType,
    GenerationMode,
    Length,
    Priority,
    PromptRequest,
    PromptTemplate,
    SeoFocus,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
    Tone,
    ToneText,
    _Model,
    forbidden_pattern,
    invalid_input_from,
    new_id,
    utcnow,
)
from contentgen.quality import ComplianceReport

#: The public names: the records below, and what comes in (re-exported from input_models).
__all__ = [
    "FORBIDDEN_TOPIC_PATTERNS",
    "KEYWORD_MAX",
    "MAX_KEYWORDS",
    "MAX_PRIMARY_KEYWORDS",
    "MAX_SECTIONS",
    "NAME_MAX",
    "NANOS_PER_DOLLAR",
    "NO_CALL",
    "RULE_MAX",
    "SECTION_MAX",
    "STRATEGY_MAX_BYTES",
    "TEMPLATE_MAX",
    "TONE_MAX",
    "TOPIC_MAX",
    "TOPIC_MIN",
    "Client",
    "ContentGuidelines",
    "ContentPreference",
    "ContentRequest",
    "ContentResult",
    "ContentType",
    "GenerationMode",
    "Job",
    "JobAttempt",
    "JobFilter",
    "JobPage",
    "JobStatus",
    "Length",
    "LlmUsage",
    "Priority",
    "PromptJob",
    "PromptMetadata",
    "PromptRequest",
    "PromptTemplate",
    "ResultMetadata",
    "SeoFocus",
    "SeoRule",
    "Strategy",
    "StrategyConfig",
    "StrategyHistoryEntry",
    "TokenUsage",
    "Tone",
    "ToneText",
    "UsageGroup",
    "UsageLine",
    "UsageReport",
    "UsageSummary",
    "forbidden_pattern",
    "from_nanos",
    "invalid_input_from",
    "new_id",
    "to_nanos",
    "utcnow",
]


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class TokenUsage(_Model):
    input: int = 0
    output: int = 0


class ResultMetadata(_Model):
    word_count: int
    keywords_used: list[str]
    llm_provider: str
    model: str
    generation_cost: float
    generation_time_ms: int
    token_usage: TokenUsage
    seo_notes: str | None = None
    #: How the piece measures against the strategy, check by check (``seo_notes`` sums it up).
    compliance: ComplianceReport | None = None
    #: True when the kept text still contains a part the provider cut at its token limit.
    truncated: bool = False
    #: Calls whose price is unknown: ``generation_cost`` covers the other calls only, and the
    #: usage rows of these have an unknown (NULL) cost — never a silent $0.
    unpriced_calls: int = 0


class ContentResult(_Model):
    content: str
    title: str
    metadata: ResultMetadata


class Job(_Model):
    """One content job (reference: Job), plus the versions of the setup it used."""

    id: uuid.UUID = Field(default_factory=new_id)
    status: JobStatus = JobStatus.PENDING
    params: ContentRequest
    result: ContentResult | None = None
    error: str | None = None
    strategy_version: int | None = None
    template_version: str | None = None
    request_key: str | None = None  # ContentRequest.identity() for batch rows
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def client_id(self) -> uuid.UUID:
        return self.params.client_id

    def status_view(self) -> dict[str, Any]:
        """The reference's ``GET /status/{job_id}`` body."""
        body: dict[str, Any] = {
            "job_id": str(self.id),
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
        if self.result is not None:
            body["result"] = self.result.model_dump(mode="json", exclude_none=True)
        if self.error is not None:
            body["error"] = self.error
        body["strategy_version"] = self.strategy_version
        body["template_version"] = self.template_version
        return body


NANOS_PER_DOLLAR = 1_000_000_000


def to_nanos(dollars: float) -> int:
    """Dollars as integer nano-dollars, the unit money is stored in."""
    return round(dollars * NANOS_PER_DOLLAR)


def from_nanos(nanos: int) -> float:
    return nanos / NANOS_PER_DOLLAR


class LlmUsage(_Model):
    """One provider call that was made (paid or not), recorded with the job that made it.

    ``cost`` is in dollars, exact to the nano-dollar (it is stored as integer
    ``cost_nanos``); None when the price is unknown. ``error`` is None for a successful call.
    ``attempt`` is the job attempt (``Lease.attempt``) that made the call: ``finish_job``
    sets it from the lease."""

    id: uuid.UUID = Field(default_factory=new_id)
    job_id: uuid.UUID
    client_id: uuid.UUID
    provider: str
    model: str
    input_tokens: Annotated[int, Field(ge=0)]
    output_tokens: Annotated[int, Field(ge=0)]
    cached_tokens: Annotated[int, Field(ge=0)] = 0
    reasoning_tokens: Annotated[int, Field(ge=0)] = 0
    cost: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None
    latency_ms: Annotated[int, Field(ge=0)]
    finish_reason: str | None = None
    error: str | None = None
    attempt: Annotated[int, Field(ge=1)] = 1
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("cost")
    @classmethod
    def _exact(cls, value: float | None) -> float | None:
        """Money is kept to the nano-dollar: what is stored is what is read back."""
        return None if value is None else from_nanos(to_nanos(value))

    @property
    def cost_nanos(self) -> int | None:
        return None if self.cost is None else to_nanos(self.cost)


class UsageSummary(_Model):
    """Usage rows added up for one provider and model (``UsageStore.usage_summary``).

    ``cost`` adds up the priced calls exactly (None when no call had a price);
    ``unpriced_calls`` counts the calls whose price was unknown."""

    provider: str
    model: str
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost: float | None
    unpriced_calls: int


UsageGroup = Literal["client", "model", "day"]


class UsageLine(_Model):
    """One line of the usage report (``UsageStore.usage_report``): a client, a model or a
    UTC day, or the total.

    From the usage rows (one per provider attempt, by ``created_at``): ``calls``,
    ``failed_calls``, ``retries`` (attempts made after a failed attempt of the same job run:
    retries and fallbacks), tokens, ``cost_nanos`` (the priced calls, exact; None when no call
    had a price) and ``unpriced_calls``. From the jobs finished in the window (by their finish
    time): ``pieces`` (completed) and ``failures`` (failed); a job counts under the model of
    its last call, or under the key ``"(no call)"`` when it made none."""

    key: str
    calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nanos: int | None = None
    unpriced_calls: int = 0
    pieces: int = 0
    failures: int = 0

    @property
    def cost(self) -> float | None:
        return None if self.cost_nanos is None else from_nanos(self.cost_nanos)


class UsageReport(_Model):
    """``lines`` sorted by key, and their ``total`` (jobs counted once)."""

    by: UsageGroup
    since: datetime | None = None
    until: datetime | None = None
    lines: list[UsageLine]
    total: UsageLine


NO_CALL = "(no call)"


class PromptMetadata(_Model):
    client_id: uuid.UUID
    content_type: ContentType
    keywords: list[str]
    template_version: str
    refined: bool = False
    strategy_version: int


class PromptJob(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    status: JobStatus = JobStatus.PENDING
    params: PromptRequest
    prompt: str | None = None
    metadata: PromptMetadata | None = None
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class JobFilter(_Model):
    """Which jobs ``list_jobs`` returns, newest first, ``limit`` per page.

    ``cursor`` is the ``next_cursor`` of the previous page (opaque; valid on the backend that
    made it)."""

    client_id: uuid.UUID | None = None
    status: JobStatus | None = None
    strategy_version: int | None = None
    template_version: str | None = None
    limit: int = 20
    cursor: str | None = None


class JobPage(_Model):
    """One page of ``list_jobs``: ``next_cursor`` is None on the last page."""

    jobs: list[Job]
    next_cursor: str | None = None


class JobAttempt(_Model):
    """One claim of a job by a runner: who held it and how it ended.

    ``outcome`` is None while the attempt runs, then one of ``completed``, ``failed``,
    ``cancelled`` (finished by the runner or cancelled under it), ``released`` (handed back;
    not counted), ``lost`` (the lease expired and the job was claimed again or failed)."""

    job_id: uuid.UUID
    token: int
    attempt: int
    holder: str
    claimed_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    error: str | None = None
