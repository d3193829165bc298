"""``SupabaseStorage``: the ``Storage`` protocol over a Supabase project's REST API (PostgREST),
for users who have only the project URL and a key (extra ``supabase``).

Selected by ``CONTENTGEN_DATABASE_URL=supabase://PROJECT.supabase.co`` (``supabase+http://`` for
a local stack) with ``CONTENTGEN_SUPABASE_KEY`` = the project's ``service_role`` key (it bypasses
row-level security; keep it on servers). The schema must be there first: ``contentgen db sql``
prints it for the SQL editor.

It uses supabase-py's PostgREST client (the ``postgrest`` package ``supabase.create_client``
wraps) and nothing else of supabase-py: auth, storage and realtime clients are not needed to
store rows. Everything that must be one transaction — claiming with ``SKIP LOCKED``, heartbeats,
fenced finishes with their usage rows, versioned setup writes, budget reservations — is an SQL
function shipped in the migrations and called as an RPC; single-row reads and writes are plain
table requests.

What needs the direct PostgreSQL URL instead: ``LISTEN`` (``wait_for_change`` polls here),
running migrations (``contentgen db migrate``), and the lowest claim latency.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Self

from contentgen.errors import ClientNotFound, ContentgenError
from contentgen.models import (
    Client,
    ContentPreference,
    ContentType,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._rows import name_key
from contentgen.storage._supabase_budgets import SupabaseBudgets
from contentgen.storage._supabase_jobs import SupabaseJobs
from contentgen.storage._supabase_rest import Rest, api_error, as_json, iso


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


class SupabaseStorage(SupabaseJobs, SupabaseBudgets):
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
               "created_at": iso(client.created_at)}  # fmt: skip
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
                "p_name": strategy.name, "p_config": as_json(strategy.config),
                "p_version": strategy.version, "p_active": strategy.active,
                "p_created_at": iso(strategy.created_at), "p_history_id": str(entry.id),
                "p_action": entry.action, "p_changes": list(entry.changes),
                "p_history_at": iso(entry.created_at),
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
            "p_changes": list(entry.changes), "p_history_at": iso(entry.created_at),
        })  # fmt: skip
        return rows.strategy_from(found[0]) if found else None

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        found = await self.rest.select("strategy_history", "*", order=["seq"],
                                       client_id=client_id)  # fmt: skip
        return [rows.history_from(r) for r in found]

    # seo rules, preferences ----------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        doc = {"id": str(rule.id), "client_id": str(rule.client_id), "name": rule.name,
               "rule": rule.rule, "created_at": iso(rule.created_at)}  # fmt: skip
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
               "value": pref.value, "created_at": iso(pref.created_at)}  # fmt: skip
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
                "p_created_at": iso(template.created_at),
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
