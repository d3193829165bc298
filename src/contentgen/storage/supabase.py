"""``SupabaseStorage``: the ``Storage`` protocol over a Supabase project's REST API (PostgREST),
for users who have only the project URL and a key (extra ``supabase``).

Selected by ``CONTENTGEN_DATABASE_URL=supabase://PROJECT.supabase.co`` (``supabase+http://`` for
a local stack) with ``CONTENTGEN_SUPABASE_KEY`` = the project's ``service_role`` key (it bypasses
row-level security; keep it on servers). The schema must be there first: ``contentgen db sql``
prints it for the SQL editor.

It uses supabase-py's PostgREST client (the ``postgrest`` package ``supabase.create_client``
wraps) and nothing else of supabase-py: auth, storage and realtime clients are not needed to
store rows. Everything that must be one transaction — claiming with ``SKIP LOCKED``, heartbeats,
fenced finishes with their usage rows, versioned setup writes — is an SQL function shipped in the
migrations and called as an RPC; single-row reads and writes are plain table requests.

What needs the direct PostgreSQL URL instead: ``LISTEN`` (``wait_for_change`` polls here),
running migrations (``contentgen db migrate``), and the lowest claim latency.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

from contentgen.errors import ClientNotFound, ContentgenError, InvalidInput
from contentgen.models import (
    Client,
    ContentPreference,
    ContentResult,
    ContentType,
    Job,
    JobAttempt,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    PromptJob,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
    UsageSummary,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._pg_jobs import finish_args
from contentgen.storage._pg_rows import aware
from contentgen.storage._rows import name_key
from contentgen.storage._supabase_rest import Rest, api_error
from contentgen.storage.base import ClaimedJob, Lease

_ZERO = "00000000-0000-0000-0000-000000000000"
_JOB_COLS = rows.JOB_COLS.replace(" ", "")
_USAGE_COLS = rows.USAGE_COLS.replace(" ", "")


def _is_uuid_prefix(text: str) -> bool:
    """Is ``text`` the start of a canonical UUID (hex digits, dashes at 8, 13, 18, 23)?"""
    return len(text) <= len(_ZERO) and all(
        (c == "-") if z == "-" else (c in "0123456789abcdef")
        for c, z in zip(text, _ZERO, strict=False)
    )


def _refused(exc: ContentgenError, kind: str, version: int, row_id: uuid.UUID,
             client_id: uuid.UUID) -> ContentgenError:  # fmt: skip
    """The model error for a refused insert of a versioned row."""
    code, message = api_error(exc)
    if code == "23503":
        return ClientNotFound(str(client_id))
    if code == "23505" and "version" in message:
        return checks.version_taken(kind, version)
    if code == "23505":
        return checks.duplicate(kind, row_id)
    return exc


def _j(model: Any) -> Any:
    return None if model is None else model.model_dump(mode="json")


def _ts(value: Any) -> str:
    return str(aware(value).isoformat())


class SupabaseStorage:
    """Async ``Storage`` over PostgREST; ``async with SupabaseStorage(url, key) as s: ...``.

    ``url``: the project URL (``https://PROJECT.supabase.co``); requests go to
    ``url/rest/v1`` unless ``rest_url`` names PostgREST's root directly.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        rest_url: str | None = None,
        timeout: float = 30.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.rest_url = rest_url or f"{self.url}/rest/v1"
        self._key = key
        self._timeout = timeout
        self.poll_interval = poll_interval
        self._rest: Rest | None = None

    def __repr__(self) -> str:
        return f"SupabaseStorage({self.url!r})"  # never the key

    async def open(self) -> None:
        if self._rest is None:
            self._rest = Rest(self.rest_url, self._key, self._timeout)

    async def aclose(self) -> None:
        rest, self._rest = self._rest, None
        if rest is not None:
            await rest.aclose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def rest(self) -> Rest:
        if self._rest is None:
            raise checks.not_open(repr(self))
        return self._rest

    async def wait_for_change(
        self,
        job_id: uuid.UUID | None = None,
        timeout: float = 1.0,
        *,
        statuses: frozenset[str] | None = None,
    ) -> bool:
        """No LISTEN over REST: sleeps ``min(timeout, poll_interval)``; callers re-read."""
        await asyncio.sleep(min(timeout, self.poll_interval))
        return False

    # clients ------------------------------------------------------------------------------------
    async def add_client(self, client: Client) -> Client:
        doc = {"id": str(client.id), "name": client.name, "name_key": name_key(client.name),
               "parent_id": None if client.parent_id is None else str(client.parent_id),
               "created_at": _ts(client.created_at)}  # fmt: skip
        try:
            await self.rest.insert("clients", doc)
        except ContentgenError as exc:
            code, message = api_error(exc)
            if code == "23503":
                raise ClientNotFound(str(client.parent_id)) from exc
            if code == "23505" and "name_key" in message:
                raise checks.name_taken(client.name) from exc
            if code == "23505":
                raise checks.duplicate("client", client.id) from exc
            raise
        return client

    async def get_client(self, client_id: uuid.UUID) -> Client | None:
        found = await self.rest.select("clients", "id,name,parent_id,created_at", id=client_id)
        return rows.client_from(found[0]) if found else None

    async def get_client_by_name(self, name: str) -> Client | None:
        found = await self.rest.select(
            "clients", "id,name,parent_id,created_at", name_key=name_key(name)
        )
        return rows.client_from(found[0]) if found else None

    async def list_clients(self) -> list[Client]:
        found = await self.rest.select("clients", "id,name,parent_id,created_at",
                                       order=["name_key", "seq"])  # fmt: skip
        return [rows.client_from(r) for r in found]

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client:
        current = await self.get_client(client_id)
        if current is None:
            raise ClientNotFound(str(client_id))
        new = checks.renamed(current, name)
        try:
            await self.rest.update("clients", {"name": new.name, "name_key": name_key(new.name)},
                                   id=client_id)  # fmt: skip
        except ContentgenError as exc:
            if api_error(exc)[0] == "23505":
                raise checks.name_taken(new.name) from exc
            raise
        return new

    async def delete_client(self, client_id: uuid.UUID) -> None:
        if await self.get_client(client_id) is None:
            raise ClientNotFound(str(client_id))
        children = await self.rest.count("clients", parent_id=client_id)
        if children:
            raise checks.has_children(client_id, children)
        await self.rest.delete("prompt_jobs", client_id=client_id)
        # setup, jobs, leases and usage rows go with the client (ON DELETE CASCADE)
        await self.rest.delete("clients", id=client_id)

    async def setup_revision(self, client_id: uuid.UUID) -> int:
        return int(
            await self.rest.rpc("contentgen_setup_revision", {"p_client_id": str(client_id)})
        )

    # strategies ---------------------------------------------------------------------------------
    async def insert_strategy(self, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
        checks.check_history(strategy, entry)
        try:
            found = await self.rest.rpc("contentgen_insert_strategy", {
                "p_id": str(strategy.id), "p_client_id": str(strategy.client_id),
                "p_name": strategy.name, "p_config": _j(strategy.config),
                "p_version": strategy.version, "p_active": strategy.active,
                "p_created_at": _ts(strategy.created_at), "p_history_id": str(entry.id),
                "p_action": entry.action, "p_changes": list(entry.changes),
                "p_history_at": _ts(entry.created_at),
            })  # fmt: skip
        except ContentgenError as exc:
            raise _refused(exc, "strategy", strategy.version, strategy.id,
                           strategy.client_id) from exc  # fmt: skip
        return rows.strategy_from(found[0])

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        where: dict[str, Any] = {"client_id": client_id}
        where.update({"active": True} if version is None else {"version": version})
        found = await self.rest.select("strategies", "*", **where)
        return rows.strategy_from(found[0]) if found else None

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        found = await self.rest.select("strategies", "*", order=["version"], client_id=client_id)
        return [rows.strategy_from(r) for r in found]

    async def set_active_strategy(
        self, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
    ) -> Strategy | None:
        current = await self.get_strategy(client_id, version)
        if current is None:
            return None
        checks.check_history(current, entry)
        found = await self.rest.rpc("contentgen_set_active_strategy", {
            "p_client_id": str(client_id), "p_version": version, "p_history_id": str(entry.id),
            "p_strategy_id": str(entry.strategy_id), "p_action": entry.action,
            "p_changes": list(entry.changes), "p_history_at": _ts(entry.created_at),
        })  # fmt: skip
        return rows.strategy_from(found[0]) if found else None

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        found = await self.rest.select("strategy_history", "*", order=["seq"],
                                       client_id=client_id)  # fmt: skip
        return [rows.history_from(r) for r in found]

    # seo rules, preferences ----------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        doc = {"id": str(rule.id), "client_id": str(rule.client_id), "name": rule.name,
               "rule": rule.rule, "created_at": _ts(rule.created_at)}  # fmt: skip
        try:
            await self.rest.insert("seo_rules", doc)
        except ContentgenError as exc:
            code, message = api_error(exc)
            if code == "23503":
                raise ClientNotFound(str(rule.client_id)) from exc
            if code == "23505" and "seo_rules_name" in message:
                raise checks.rule_taken(rule.name) from exc
            if code == "23505":
                raise checks.duplicate("seo rule", rule.id) from exc
            raise
        return rule

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        found = await self.rest.select("seo_rules", "*", order=["seq"],
                                       client_id=client_id)  # fmt: skip
        return [rows.rule_from(r) for r in found]

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool:
        return bool(await self.rest.delete("seo_rules", client_id=client_id, name=name))

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        doc = {"id": str(pref.id), "client_id": str(pref.client_id), "key": pref.key,
               "value": pref.value, "created_at": _ts(pref.created_at)}  # fmt: skip
        try:
            await self.rest.upsert("content_preferences", doc, on_conflict="client_id,key")
        except ContentgenError as exc:
            code, _ = api_error(exc)
            if code == "23503":
                raise ClientNotFound(str(pref.client_id)) from exc
            if code == "23505":
                raise checks.duplicate("preference", pref.id) from exc
            raise
        return pref

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]:
        found = await self.rest.select("content_preferences", "*", order=["key"],
                                       client_id=client_id)  # fmt: skip
        return [rows.pref_from(r) for r in found]

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool:
        return bool(await self.rest.delete("content_preferences", client_id=client_id, key=key))

    # prompt templates ---------------------------------------------------------------------------
    async def insert_template(self, template: PromptTemplate) -> PromptTemplate:
        try:
            found = await self.rest.rpc("contentgen_insert_template", {
                "p_id": str(template.id), "p_client_id": str(template.client_id),
                "p_content_type": template.content_type.value, "p_body": template.body,
                "p_version": template.version, "p_active": template.active,
                "p_created_at": _ts(template.created_at),
            })  # fmt: skip
        except ContentgenError as exc:
            kind = f"{template.content_type.value} template"
            raise _refused(exc, kind, template.version, template.id, template.client_id) from exc
        return rows.template_from(found[0])

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        where: dict[str, Any] = {"client_id": client_id, "content_type": content_type.value}
        where.update({"active": True} if version is None else {"version": version})
        found = await self.rest.select("prompt_templates", "*", **where)
        return rows.template_from(found[0]) if found else None

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]:
        found = await self.rest.select(
            "prompt_templates", "*", order=["content_type", "version"], client_id=client_id
        )
        return [rows.template_from(r) for r in found]

    # jobs ----------------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        if job.status is not JobStatus.PENDING:
            raise checks.not_pending(job)
        doc = {"id": str(job.id), "client_id": str(job.client_id), "status": job.status.value,
               "params": _j(job.params), "result": _j(job.result), "error": job.error,
               "strategy_version": job.strategy_version,
               "template_version": job.template_version, "request_key": job.request_key,
               "created_at": _ts(job.created_at), "updated_at": _ts(job.updated_at)}  # fmt: skip
        try:
            await self.rest.insert("jobs", doc)
        except ContentgenError as exc:
            code, _ = api_error(exc)
            if code == "23503":
                raise ClientNotFound(str(job.client_id)) from exc
            if code == "23505":
                raise checks.duplicate("job", job.id) from exc
            raise
        return job

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        found = await self.rest.select("jobs", _JOB_COLS, id=job_id)
        return rows.job_from(found[0]) if found else None

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        prefix = prefix.lower()
        if not _is_uuid_prefix(prefix):
            return []
        low = prefix + _ZERO[len(prefix) :]
        high = prefix + _ZERO[len(prefix) :].replace("0", "f")
        found = await self.rest.select("jobs", _JOB_COLS, order=["seq"], limit=limit,
                                       ranges={"id": (low, high)})  # fmt: skip
        return [rows.job_from(r) for r in found]

    async def find_job_by_key(self, key: str) -> Job | None:
        found = await self.rest.select("jobs", _JOB_COLS, order=["-created_at", "-seq"],
                                       limit=1, request_key=key)  # fmt: skip
        return rows.job_from(found[0]) if found else None

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        where: dict[str, Any] = {}
        if filt.client_id is not None:
            where["client_id"] = filt.client_id
        if filt.status is not None:
            where["status"] = filt.status.value
        if filt.strategy_version is not None:
            where["strategy_version"] = filt.strategy_version
        if filt.template_version is not None:
            where["template_version"] = filt.template_version
        before = None if filt.cursor is None else checks.parse_cursor(filt.cursor)
        limit = max(filt.limit, 0)
        found = await self.rest.select("jobs", _JOB_COLS + ",seq", order=["-seq"],
                                       limit=limit + 1, below={"seq": before}, **where)  # fmt: skip
        page = found[:limit]
        more = len(found) > limit and bool(page)
        return JobPage(
            jobs=[rows.job_from(r) for r in page],
            next_cursor=checks.make_cursor(int(page[-1]["seq"])) if more else None,
        )

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        return await self.rest.count("jobs", client_id=client_id)

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        found = await self.rest.select("llm_usage", _USAGE_COLS, order=["seq"],
                                       job_id=job_id)  # fmt: skip
        return [rows.usage_from(r) for r in found]

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        found = await self.rest.rpc("contentgen_usage_summary", {
            "p_client_id": None if client_id is None else str(client_id),
            "p_since": None if since is None else _ts(since),
            "p_until": None if until is None else _ts(until),
        })  # fmt: skip
        return [rows.summary_from(r) for r in found]

    # leases --------------------------------------------------------------------------------------
    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        checks.check_lease_args(limit, lease_seconds, max_attempts)
        found = await self.rest.rpc("contentgen_claim_jobs", {
            "p_holder": holder, "p_limit": limit, "p_lease_seconds": float(lease_seconds),
            "p_max_attempts": max_attempts, "p_job_id": None if job_id is None else str(job_id),
        })  # fmt: skip
        return [rows.claimed_from(r) for r in found]

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        checks.check_lease_args(1, lease_seconds, 1)
        found = await self.rest.rpc("contentgen_heartbeat", {
            "p_job_id": str(lease.job_id), "p_token": lease.token,
            "p_lease_seconds": float(lease_seconds),
        })  # fmt: skip
        return rows.lease_from(lease.job_id, found[0]) if found else None

    async def finish_job(
        self,
        lease: Lease,
        *,
        status: JobStatus,
        result: ContentResult | None = None,
        error: str | None = None,
        usage: Sequence[LlmUsage] = (),
        strategy_version: int | None = None,
        template_version: str | None = None,
    ) -> Job | None:
        client_id = usage[0].client_id if usage else None
        args = finish_args(lease, status, result, error, usage, strategy_version,
                           template_version, client_id)  # fmt: skip
        try:
            found = await self.rest.rpc("contentgen_finish_job", {
                "p_job_id": str(lease.job_id), "p_token": lease.token, "p_status": args[2],
                "p_result": _j(result), "p_error": error,
                "p_usage": [rows.usage_doc(u) for u in checks.stamped(usage, lease.attempt)],
                "p_strategy_version": strategy_version, "p_template_version": template_version,
            })  # fmt: skip
        except ContentgenError as exc:
            code, _ = api_error(exc)
            if code == "23505":
                raise checks.duplicate("usage row", "in this batch") from exc
            if code == "23503":
                raise InvalidInput("usage: a usage row names a job or client that does not "
                                   "exist", field="usage") from exc  # fmt: skip
            raise
        return rows.job_from(found[0]) if found else None

    async def release_job(self, lease: Lease) -> bool:
        done = await self.rest.rpc(
            "contentgen_release_job", {"p_job_id": str(lease.job_id), "p_token": lease.token}
        )
        return bool(done)

    async def _status(self, job_id: uuid.UUID) -> JobStatus:
        from contentgen.errors import JobNotFound

        found = await self.rest.select("jobs", "status", id=job_id)
        if not found:
            raise JobNotFound(str(job_id))
        return JobStatus(found[0]["status"])

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        found = await self.rest.rpc("contentgen_cancel_job", {"p_job_id": str(job_id)})
        if not found:
            raise checks.wrong_state(job_id, await self._status(job_id), "cancelled")
        return rows.job_from(found[0])

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        found = await self.rest.select("job_attempts", rows.ATTEMPT_COLS.replace(" ", ""),
                                       order=["token"], job_id=job_id)  # fmt: skip
        return [rows.attempt_from(r) for r in found]

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        found = await self.rest.rpc("contentgen_retry_job", {"p_job_id": str(job_id)})
        if not found:
            raise checks.wrong_state(job_id, await self._status(job_id), "retried")
        return rows.job_from(found[0])

    # prompt jobs ---------------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        doc = {"id": str(job.id), "client_id": str(job.params.client_id),
               "status": job.status.value, "params": _j(job.params), "prompt": job.prompt,
               "metadata": _j(job.metadata), "error": job.error,
               "created_at": _ts(job.created_at), "updated_at": _ts(job.updated_at)}  # fmt: skip
        await self.rest.upsert("prompt_jobs", doc, on_conflict="id")
        return job

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        found = await self.rest.select("prompt_jobs", "*", id=job_id)
        return rows.prompt_job_from(found[0]) if found else None
