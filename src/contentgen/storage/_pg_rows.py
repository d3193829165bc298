"""Rows of the PostgreSQL schema <-> models, for asyncpg records and PostgREST JSON alike.

Both come as mappings by column name. asyncpg gives ``uuid.UUID``, aware ``datetime`` and jsonb
as JSON text; PostgREST gives strings and jsonb as parsed JSON. ``_doc`` and pydantic's
validation accept either, so one decoder serves both backends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from contentgen.models import (
    Client,
    ContentPreference,
    ContentRequest,
    ContentResult,
    ContentType,
    Job,
    JobAttempt,
    JobStatus,
    LlmUsage,
    PromptJob,
    PromptMetadata,
    PromptRequest,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
    UsageSummary,
    from_nanos,
)
from contentgen.storage.base import ClaimedJob, Lease

Row = Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)

JOB_COLS = (
    "id, client_id, status, params, result, error, strategy_version, template_version, "
    "request_key, created_at, updated_at"
)
USAGE_COLS = (
    "id, job_id, client_id, provider, model, input_tokens, output_tokens, cached_tokens, "
    "reasoning_tokens, cost_nanos, latency_ms, finish_reason, error, attempt, created_at"
)
ATTEMPT_COLS = "job_id, token, attempt, holder, claimed_at, ended_at, outcome, error"


def _doc(model: type[M], value: Any) -> M:
    if isinstance(value, str | bytes):
        return model.model_validate_json(value)
    return model.model_validate(value)


def _doc_or_none(model: type[M], value: Any) -> M | None:
    return None if value is None else _doc(model, value)


def _json_list(value: Any) -> list[str]:
    items = json.loads(value) if isinstance(value, str | bytes) else value
    return [str(v) for v in items]


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _ts(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.astimezone(UTC)


def aware(value: datetime) -> datetime:
    """A naive datetime is taken to be UTC already (as the SQLite backend does)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def client_from(r: Row) -> Client:
    return Client(
        id=_uuid(r["id"]),
        name=r["name"],
        parent_id=None if r["parent_id"] is None else _uuid(r["parent_id"]),
        created_at=_ts(r["created_at"]),
    )


def strategy_from(r: Row) -> Strategy:
    return Strategy(
        id=_uuid(r["id"]),
        client_id=_uuid(r["client_id"]),
        name=r["name"],
        config=_doc(StrategyConfig, r["config"]),
        version=r["version"],
        active=bool(r["active"]),
        created_at=_ts(r["created_at"]),
    )


def history_from(r: Row) -> StrategyHistoryEntry:
    return StrategyHistoryEntry(
        id=_uuid(r["id"]),
        strategy_id=_uuid(r["strategy_id"]),
        client_id=_uuid(r["client_id"]),
        version=r["version"],
        action=r["action"],
        changes=_json_list(r["changes"]),
        created_at=_ts(r["created_at"]),
    )


def rule_from(r: Row) -> SeoRule:
    return SeoRule(
        id=_uuid(r["id"]),
        client_id=_uuid(r["client_id"]),
        name=r["name"],
        rule=r["rule"],
        created_at=_ts(r["created_at"]),
    )


def pref_from(r: Row) -> ContentPreference:
    return ContentPreference(
        id=_uuid(r["id"]),
        client_id=_uuid(r["client_id"]),
        key=r["key"],
        value=r["value"],
        created_at=_ts(r["created_at"]),
    )


def template_from(r: Row) -> PromptTemplate:
    return PromptTemplate(
        id=_uuid(r["id"]),
        client_id=_uuid(r["client_id"]),
        content_type=ContentType(r["content_type"]),
        body=r["body"],
        version=r["version"],
        active=bool(r["active"]),
        created_at=_ts(r["created_at"]),
    )


def job_from(r: Row) -> Job:
    return Job(
        id=_uuid(r["id"]),
        status=JobStatus(r["status"]),
        params=_doc(ContentRequest, r["params"]),
        result=_doc_or_none(ContentResult, r["result"]),
        error=r["error"],
        strategy_version=r["strategy_version"],
        template_version=r["template_version"],
        request_key=r["request_key"],
        created_at=_ts(r["created_at"]),
        updated_at=_ts(r["updated_at"]),
    )


def lease_from(job_id: uuid.UUID, r: Row, prefix: str = "") -> Lease:
    return Lease(
        job_id=job_id,
        holder=r[prefix + "holder"],
        token=int(r[prefix + "token"]),
        attempt=int(r[prefix + "attempt"]),
        expires_at=_ts(r[prefix + "expires_at"]),
    )


def claimed_from(r: Row) -> ClaimedJob:
    job = job_from(r)
    return ClaimedJob(job=job, lease=lease_from(job.id, r, "lease_"))


def usage_from(r: Row) -> LlmUsage:
    nanos = r["cost_nanos"]
    return LlmUsage(
        id=_uuid(r["id"]),
        job_id=_uuid(r["job_id"]),
        client_id=_uuid(r["client_id"]),
        provider=r["provider"],
        model=r["model"],
        input_tokens=r["input_tokens"],
        output_tokens=r["output_tokens"],
        cached_tokens=r["cached_tokens"],
        reasoning_tokens=r["reasoning_tokens"],
        cost=None if nanos is None else from_nanos(int(nanos)),
        latency_ms=r["latency_ms"],
        finish_reason=r["finish_reason"],
        error=r["error"],
        attempt=r["attempt"],
        created_at=_ts(r["created_at"]),
    )


def usage_doc(u: LlmUsage) -> dict[str, Any]:
    """A usage row as the JSON ``contentgen_finish_job`` takes (jsonb_populate_record)."""
    return {
        "id": str(u.id),
        "job_id": str(u.job_id),
        "client_id": str(u.client_id),
        "provider": u.provider,
        "model": u.model,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cached_tokens": u.cached_tokens,
        "reasoning_tokens": u.reasoning_tokens,
        "cost_nanos": u.cost_nanos,
        "latency_ms": u.latency_ms,
        "finish_reason": u.finish_reason,
        "error": u.error,
        "attempt": u.attempt,
        "created_at": aware(u.created_at).isoformat(),
    }


def summary_from(r: Row) -> UsageSummary:
    nanos = r["cost_nanos"]
    return UsageSummary(
        provider=r["provider"], model=r["model"], calls=int(r["calls"]),
        failed_calls=int(r["failed_calls"]), input_tokens=int(r["input_tokens"]),
        output_tokens=int(r["output_tokens"]), cached_tokens=int(r["cached_tokens"]),
        reasoning_tokens=int(r["reasoning_tokens"]),
        cost=None if nanos is None else from_nanos(int(nanos)),
        unpriced_calls=int(r["unpriced_calls"]),
    )  # fmt: skip


def prompt_job_from(r: Row) -> PromptJob:
    return PromptJob(
        id=_uuid(r["id"]),
        status=JobStatus(r["status"]),
        params=_doc(PromptRequest, r["params"]),
        prompt=r["prompt"],
        metadata=_doc_or_none(PromptMetadata, r["metadata"]),
        error=r["error"],
        created_at=_ts(r["created_at"]),
        updated_at=_ts(r["updated_at"]),
    )


def attempt_from(r: Row) -> JobAttempt:
    return JobAttempt(
        job_id=_uuid(r["job_id"]),
        token=int(r["token"]),
        attempt=int(r["attempt"]),
        holder=r["holder"],
        claimed_at=_ts(r["claimed_at"]),
        ended_at=None if r["ended_at"] is None else _ts(r["ended_at"]),
        outcome=r["outcome"],
        error=r["error"],
    )
