"""Request and response bodies of the HTTP API, for validation and the OpenAPI schema.

Request bodies are the library's own request models (same checks, same messages as the CLI
and the library), with the client given by UUID or name; every problem of a body is reported
at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contentgen.instructions.setup import EffectiveSetup
from contentgen.models import (
    KEYWORD_MAX,
    MAX_KEYWORDS,
    TOPIC_MAX,
    TOPIC_MIN,
    Client,
    ContentRequest,
    ContentResult,
    JobStatus,
    PromptMetadata,
    PromptRequest,
    Strategy,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


_TOPIC: Any = Field(
    description=f"What to write about ({TOPIC_MIN}-{TOPIC_MAX} characters).",
    json_schema_extra={"minLength": TOPIC_MIN, "maxLength": TOPIC_MAX},
)
_CLIENT: Any = Field(
    description="The client's UUID, or its name.",
    json_schema_extra={"minLength": 1, "maxLength": 200},
)
_KEYWORDS: Any = Field(
    default_factory=list,
    description=f"Up to {MAX_KEYWORDS} keywords of at most {KEYWORD_MAX} characters.",
    json_schema_extra={"maxItems": MAX_KEYWORDS, "items": {"type": "string",
                                                            "maxLength": KEYWORD_MAX}},
)  # fmt: skip


class GenerateBody(ContentRequest):
    """``POST /generate`` (the reference's CPM request): the library's ``ContentRequest``
    (same checks, same messages) with the client by UUID or name."""

    model_config = ConfigDict(defer_build=False)

    topic: str = _TOPIC
    client_id: str = _CLIENT  # type: ignore[assignment]
    keywords: list[str] = _KEYWORDS


class GeneratePromptBody(PromptRequest):
    """``POST /generate-prompt`` (the reference's IM request)."""

    model_config = ConfigDict(defer_build=False)

    topic: str = _TOPIC
    client_id: str = _CLIENT  # type: ignore[assignment]
    keywords: list[str] = _KEYWORDS


class StrategyBody(_Body):
    """``PUT /clients/{ref}/strategy``: a strategy config (content_guidelines, seo_focus,
    tone); stored as a new active version unless it equals the active one."""

    name: str = Field("default", min_length=1, max_length=200)
    config: dict[str, Any] = Field(
        description="content_guidelines, seo_focus and tone, as in the reference's Strategy."
    )


class JobIdBody(BaseModel):
    job_id: uuid.UUID


class StatusBody(BaseModel):
    """The reference's ``GET /status/{job_id}`` body, plus the request (``params``) and the
    versions of the setup the job used."""

    job_id: uuid.UUID
    status: JobStatus
    result: ContentResult | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    strategy_version: int | None = None
    template_version: str | None = None
    params: ContentRequest


class JobsPage(BaseModel):
    jobs: list[StatusBody]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page.")


class PromptBody(BaseModel):
    """``GET /prompt/{job_id}``: ``prompt`` and ``metadata`` once completed; ``status`` (and
    ``error`` when failed) before that."""

    prompt: str | None = None
    metadata: PromptMetadata | None = None
    status: JobStatus
    error: str | None = None
    job_id: uuid.UUID
    params: PromptRequest
    created_at: datetime
    updated_at: datetime


class ClientsBody(BaseModel):
    clients: list[Client]


class ClientView(BaseModel):
    client: Client
    strategy: Strategy | None = Field(None, description="The client's own active strategy.")
    setup: EffectiveSetup = Field(description="What a request for this client gets, with "
                                  "inherited values and their origins.")  # fmt: skip


class ErrorBody(BaseModel):
    error: str
    details: dict[str, Any] | None = None


class HealthBody(BaseModel):
    status: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses."""
    return {code: {"model": ErrorBody} for code in codes}
