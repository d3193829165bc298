"""Shared types: the reference's "TypeScript Types (Shared)" as pydantic v2 models.

Validation lives here so the CLI, the HTTP server and the library reject the same bad input
with the same message.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOPIC_MIN, TOPIC_MAX = 5, 1000
MAX_KEYWORDS, KEYWORD_MAX = 10, 50
FORBIDDEN_TOPIC_PATTERNS = ("<script", "javascript:", "onerror=")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class ContentType(StrEnum):
    BLOG = "blog"
    SOCIAL = "social"
    LOCAL = "local"


class Length(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Priority(StrEnum):
    COST = "cost"
    QUALITY = "quality"
    SPEED = "speed"
    BALANCED = "balanced"


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def _check_topic(value: str) -> str:
    value = value.strip()
    if len(value) < TOPIC_MIN:
        raise ValueError(f"must be at least {TOPIC_MIN} characters (got {len(value)})")
    if len(value) > TOPIC_MAX:
        raise ValueError(f"must be at most {TOPIC_MAX} characters (got {len(value)})")
    lowered = value.lower()
    for pattern in FORBIDDEN_TOPIC_PATTERNS:
        if pattern in lowered:
            raise ValueError(f"must not contain {pattern!r}")
    return value


def _check_keywords(values: list[str]) -> list[str]:
    if len(values) > MAX_KEYWORDS:
        raise ValueError(f"at most {MAX_KEYWORDS} keywords allowed (got {len(values)})")
    cleaned: list[str] = []
    for kw in values:
        kw = kw.strip()
        if len(kw) > KEYWORD_MAX:
            raise ValueError(
                f"each keyword must be at most {KEYWORD_MAX} characters "
                f"({kw[:20]!r}... has {len(kw)})"
            )
        if kw and kw.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(kw)
    return cleaned


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, defer_build=True)


class PromptRequest(_Model):
    """What the IM needs to build a prompt (reference: "IM API")."""

    topic: str
    content_type: ContentType
    client_id: uuid.UUID
    keywords: list[str] = Field(default_factory=list)
    length: Length = Length.MEDIUM

    _topic = field_validator("topic")(_check_topic)
    _keywords = field_validator("keywords")(_check_keywords)


class ContentRequest(PromptRequest):
    """A request for one piece of content (reference: ContentRequest)."""

    priority: Priority = Priority.BALANCED
    llm_provider: str | None = None
    model: str | None = None

    def identity(self) -> str:
        """A stable hash of the normalised request (batch rows are resumed by it)."""
        import hashlib
        import json

        data = self.model_dump(mode="json")
        data["topic"] = " ".join(self.topic.split()).lower()
        data["keywords"] = sorted(k.lower() for k in self.keywords)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def prompt_request(self) -> PromptRequest:
        return PromptRequest(
            topic=self.topic,
            content_type=self.content_type,
            client_id=self.client_id,
            keywords=self.keywords,
            length=self.length,
        )


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


class Client(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    name: str
    parent_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > 200:
            raise ValueError("must be 1..200 characters")
        return value


# --- Strategy: every field optional, so a child can override field by field ----------------


class ContentGuidelines(_Model):
    min_words: Annotated[int, Field(ge=1, le=20000)] | None = None
    max_words: Annotated[int, Field(ge=1, le=20000)] | None = None
    required_sections: list[str] | None = None
    citation_required: bool | None = None


class SeoFocus(_Model):
    primary_keywords: list[str] | None = None
    keyword_density: Annotated[float, Field(ge=0, le=10)] | None = None
    meta_description_length: Annotated[int, Field(ge=50, le=500)] | None = None


class Tone(_Model):
    formality: str | None = None
    voice: str | None = None
    engagement: str | None = None


class StrategyConfig(_Model):
    content_guidelines: ContentGuidelines = Field(default_factory=ContentGuidelines)
    seo_focus: SeoFocus = Field(default_factory=SeoFocus)
    tone: Tone = Field(default_factory=Tone)


class Strategy(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    name: str = "default"
    config: StrategyConfig = Field(default_factory=StrategyConfig)
    version: int = 1
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class StrategyHistoryEntry(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    strategy_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    action: str  # "created" | "activated"
    changes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)


class SeoRule(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    name: str
    rule: str
    created_at: datetime = Field(default_factory=utcnow)


class ContentPreference(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    key: str
    value: str
    created_at: datetime = Field(default_factory=utcnow)


class PromptTemplate(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    content_type: ContentType
    body: str
    version: int = 1
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class LlmUsage(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    job_id: uuid.UUID
    client_id: uuid.UUID
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    latency_ms: int
    created_at: datetime = Field(default_factory=utcnow)


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


def invalid_input_from(exc: Any) -> Any:
    """Turn a pydantic ``ValidationError`` into one-line ``InvalidInput`` naming the field."""
    from contentgen.errors import InvalidInput

    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "input"
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    extra = len(exc.errors()) - 1
    suffix = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return InvalidInput(f"{field}: {msg}{suffix}", field=field, errors=_plain_errors(exc))


def _plain_errors(exc: Any) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg"))}
        for e in exc.errors()
    ]
