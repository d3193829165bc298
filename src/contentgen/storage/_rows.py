"""Mapping between models and SQL rows: column lists, parameter tuples, row decoders.

Ids are stored as UUID text, timestamps as fixed-width ISO-8601 UTC text (so that text order is
time order) and nested documents as JSON text written by pydantic.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contentgen.models import (
    Client,
    ContentPreference,
    ContentRequest,
    ContentResult,
    ContentType,
    Job,
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
    from_nanos,
)

Row = Sequence[Any]
Params = tuple[Any, ...]

CLIENT_COLS = "id, name, parent_id, created_at"
STRATEGY_COLS = "id, client_id, name, config, version, active, created_at"
HISTORY_COLS = "id, strategy_id, client_id, version, action, changes, created_at"
RULE_COLS = "id, client_id, name, rule, created_at"
PREF_COLS = "id, client_id, key, value, created_at"
TEMPLATE_COLS = "id, client_id, content_type, body, version, active, created_at"
JOB_COLS = (
    "id, client_id, status, params, result, error, strategy_version, template_version, "
    "created_at, updated_at, request_key"
)
USAGE_COLS = (
    "id, job_id, client_id, provider, model, input_tokens, output_tokens, cached_tokens, "
    "reasoning_tokens, cost_nanos, latency_ms, finish_reason, error, attempt, created_at"
)
USAGE_WIDTH = 15
PROMPT_JOB_COLS = "id, client_id, status, params, prompt, metadata, error, created_at, updated_at"


def ts(value: datetime) -> str:
    """Fixed-width UTC text; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def name_key(name: str) -> str:
    """The case-insensitive identity of a client name."""
    return name.strip().casefold()


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


# clients -----------------------------------------------------------------------------------
def client_params(c: Client) -> Params:
    return (
        str(c.id),
        c.name,
        name_key(c.name),
        None if c.parent_id is None else str(c.parent_id),
        ts(c.created_at),
    )


def client_from(r: Row) -> Client:
    return Client(id=uuid.UUID(r[0]), name=r[1], parent_id=_uuid(r[2]), created_at=parse_ts(r[3]))


# strategies ---------------------------------------------------------------------------------
def strategy_params(s: Strategy) -> Params:
    return (
        str(s.id),
        str(s.client_id),
        s.name,
        s.config.model_dump_json(),
        s.version,
        s.active,
        ts(s.created_at),
    )


def strategy_from(r: Row) -> Strategy:
    return Strategy(
        id=uuid.UUID(r[0]),
        client_id=uuid.UUID(r[1]),
        name=r[2],
        config=StrategyConfig.model_validate_json(r[3]),
        version=r[4],
        active=bool(r[5]),
        created_at=parse_ts(r[6]),
    )


def history_params(h: StrategyHistoryEntry) -> Params:
    return (
        str(h.id),
        str(h.strategy_id),
        str(h.client_id),
        h.version,
        h.action,
        _json_list(h.changes),
        ts(h.created_at),
    )


def history_from(r: Row) -> StrategyHistoryEntry:
    return StrategyHistoryEntry(
        id=uuid.UUID(r[0]),
        strategy_id=uuid.UUID(r[1]),
        client_id=uuid.UUID(r[2]),
        version=r[3],
        action=r[4],
        changes=_parse_json_list(r[5]),
        created_at=parse_ts(r[6]),
    )


def _json_list(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)


def _parse_json_list(text: str) -> list[str]:
    return [str(v) for v in json.loads(text)]


# seo rules, preferences, templates -------------------------------------------------------------
def rule_params(r: SeoRule) -> Params:
    return (str(r.id), str(r.client_id), r.name, r.rule, ts(r.created_at))


def rule_from(r: Row) -> SeoRule:
    return SeoRule(
        id=uuid.UUID(r[0]),
        client_id=uuid.UUID(r[1]),
        name=r[2],
        rule=r[3],
        created_at=parse_ts(r[4]),
    )


def pref_params(p: ContentPreference) -> Params:
    return (str(p.id), str(p.client_id), p.key, p.value, ts(p.created_at))


def pref_from(r: Row) -> ContentPreference:
    return ContentPreference(
        id=uuid.UUID(r[0]),
        client_id=uuid.UUID(r[1]),
        key=r[2],
        value=r[3],
        created_at=parse_ts(r[4]),
    )


def template_params(t: PromptTemplate) -> Params:
    return (
        str(t.id),
        str(t.client_id),
        t.content_type.value,
        t.body,
        t.version,
        t.active,
        ts(t.created_at),
    )


def template_from(r: Row) -> PromptTemplate:
    return PromptTemplate(
        id=uuid.UUID(r[0]),
        client_id=uuid.UUID(r[1]),
        content_type=ContentType(r[2]),
        body=r[3],
        version=r[4],
        active=bool(r[5]),
        created_at=parse_ts(r[6]),
    )


# jobs, usage, prompt jobs ----------------------------------------------------------------------
def job_params(j: Job) -> Params:
    return (
        str(j.id),
        str(j.params.client_id),
        j.status.value,
        j.params.model_dump_json(),
        None if j.result is None else j.result.model_dump_json(),
        j.error,
        j.strategy_version,
        j.template_version,
        ts(j.created_at),
        ts(j.updated_at),
        j.request_key,
    )


def job_from(r: Row) -> Job:
    return Job(
        id=uuid.UUID(r[0]),
        status=JobStatus(r[2]),
        params=ContentRequest.model_validate_json(r[3]),
        result=None if r[4] is None else ContentResult.model_validate_json(r[4]),
        error=r[5],
        strategy_version=r[6],
        template_version=r[7],
        created_at=parse_ts(r[8]),
        updated_at=parse_ts(r[9]),
        request_key=r[10],
    )


def usage_params(u: LlmUsage) -> Params:
    return (
        str(u.id),
        str(u.job_id),
        str(u.client_id),
        u.provider,
        u.model,
        u.input_tokens,
        u.output_tokens,
        u.cached_tokens,
        u.reasoning_tokens,
        u.cost_nanos,
        u.latency_ms,
        u.finish_reason,
        u.error,
        u.attempt,
        ts(u.created_at),
    )


def usage_from(r: Row) -> LlmUsage:
    return LlmUsage(
        id=uuid.UUID(r[0]),
        job_id=uuid.UUID(r[1]),
        client_id=uuid.UUID(r[2]),
        provider=r[3],
        model=r[4],
        input_tokens=r[5],
        output_tokens=r[6],
        cached_tokens=r[7],
        reasoning_tokens=r[8],
        cost=None if r[9] is None else from_nanos(r[9]),
        latency_ms=r[10],
        finish_reason=r[11],
        error=r[12],
        attempt=r[13],
        created_at=parse_ts(r[14]),
    )


def prompt_job_params(p: PromptJob) -> Params:
    return (
        str(p.id),
        str(p.params.client_id),
        p.status.value,
        p.params.model_dump_json(),
        p.prompt,
        None if p.metadata is None else p.metadata.model_dump_json(),
        p.error,
        ts(p.created_at),
        ts(p.updated_at),
    )


def prompt_job_from(r: Row) -> PromptJob:
    return PromptJob(
        id=uuid.UUID(r[0]),
        status=JobStatus(r[2]),
        params=PromptRequest.model_validate_json(r[3]),
        prompt=r[4],
        metadata=None if r[5] is None else PromptMetadata.model_validate_json(r[5]),
        error=r[6],
        created_at=parse_ts(r[7]),
        updated_at=parse_ts(r[8]),
    )
