"""The SQL behind ``PostgresStorage`` for clients and their setup, and prompt jobs.

Each function takes an asyncpg connection; several statements run in one transaction.
Constraint violations are translated to the same errors the other backends raise.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from contentgen.errors import ClientNotFound, StorageError
from contentgen.models import (
    Client,
    ContentPreference,
    ContentType,
    PromptJob,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._pg_rows import aware
from contentgen.storage._rows import name_key

Conn = Any  # asyncpg.Connection (asyncpg ships no type information)


def constraint(exc: BaseException) -> tuple[str, str]:
    """(``unique`` | ``foreign_key`` | other, constraint name) of an asyncpg error."""
    sqlstate = getattr(exc, "sqlstate", "")
    name = getattr(exc, "constraint_name", None) or ""
    kind = {"23505": "unique", "23503": "foreign_key"}.get(sqlstate, sqlstate)
    return kind, name


def is_integrity(exc: BaseException) -> bool:
    return str(getattr(exc, "sqlstate", "")).startswith("23")


def integrity_error(exc: BaseException) -> StorageError:
    return StorageError(f"database constraint violated: {exc}")


async def _require_client(conn: Conn, client_id: uuid.UUID) -> None:
    if await conn.fetchval("SELECT 1 FROM clients WHERE id = $1", client_id) is None:
        raise ClientNotFound(str(client_id))


# clients ----------
_CLIENT = "SELECT id, name, parent_id, created_at FROM clients"


async def add_client(conn: Conn, client: Client) -> Client:
    try:
        await conn.execute(
            "INSERT INTO clients (id, name, name_key, parent_id, created_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            client.id, client.name, name_key(client.name), client.parent_id,
            aware(client.created_at),
        )  # fmt: skip
    except Exception as exc:
        if not is_integrity(exc):
            raise
        kind, name = constraint(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(client.parent_id)) from exc
        if kind == "unique" and "name_key" in name:
            raise checks.name_taken(client.name) from exc
        if kind == "unique":
            raise checks.duplicate("client", client.id) from exc
        raise integrity_error(exc) from exc
    return client


async def get_client(conn: Conn, client_id: uuid.UUID) -> Client | None:
    row = await conn.fetchrow(f"{_CLIENT} WHERE id = $1", client_id)
    return None if row is None else rows.client_from(row)


async def get_client_by_name(conn: Conn, name: str) -> Client | None:
    row = await conn.fetchrow(f"{_CLIENT} WHERE name_key = $1", name_key(name))
    return None if row is None else rows.client_from(row)


async def list_clients(conn: Conn) -> list[Client]:
    return [rows.client_from(r) for r in await conn.fetch(f"{_CLIENT} ORDER BY name_key, seq")]


async def rename_client(conn: Conn, client_id: uuid.UUID, name: str) -> Client:
    async with conn.transaction():
        row = await conn.fetchrow(f"{_CLIENT} WHERE id = $1 FOR UPDATE", client_id)
        if row is None:
            raise ClientNotFound(str(client_id))
        new = checks.renamed(rows.client_from(row), name)
        try:
            await conn.execute(
                "UPDATE clients SET name = $1, name_key = $2 WHERE id = $3",
                new.name, name_key(new.name), client_id,
            )  # fmt: skip
        except Exception as exc:
            if is_integrity(exc):
                raise checks.name_taken(new.name) from exc
            raise
    return new


async def delete_client(conn: Conn, client_id: uuid.UUID) -> None:
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM clients WHERE id = $1 FOR UPDATE", client_id) is None:
            raise ClientNotFound(str(client_id))
        children = await conn.fetchval(
            "SELECT count(*) FROM clients WHERE parent_id = $1", client_id
        )
        if children:
            raise checks.has_children(client_id, children)
        await conn.execute("DELETE FROM prompt_jobs WHERE client_id = $1", client_id)
        # setup, jobs, leases and usage rows go with the client (ON DELETE CASCADE)
        await conn.execute("DELETE FROM clients WHERE id = $1", client_id)


async def setup_revision(conn: Conn, client_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT contentgen_setup_revision($1)", client_id))


# strategies ----------
_STRATEGY = "SELECT id, client_id, name, config, version, active, created_at FROM strategies"
_HISTORY = (
    "SELECT id, strategy_id, client_id, version, action, changes, created_at FROM strategy_history"
)


def version_refused(exc: BaseException, kind: str, version: int, row_id: uuid.UUID,
                    client_id: uuid.UUID) -> Exception | None:  # fmt: skip
    """The model error for a refused insert of a versioned row (None: not a refusal)."""
    if not is_integrity(exc):
        return None
    found, name = constraint(exc)
    if found == "foreign_key":
        return ClientNotFound(str(client_id))
    if found == "unique" and "version" in name:
        return checks.version_taken(kind, version)
    if found == "unique":
        return checks.duplicate(kind, row_id)
    return integrity_error(exc)


async def insert_strategy(conn: Conn, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
    checks.check_history(strategy, entry)
    try:
        row = await conn.fetchrow(
            "SELECT * FROM contentgen_insert_strategy($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, "
            "$10::jsonb, $11)",
            strategy.id, strategy.client_id, strategy.name, strategy.config.model_dump_json(),
            strategy.version, strategy.active, aware(strategy.created_at), entry.id,
            entry.action, json.dumps(entry.changes, ensure_ascii=False), aware(entry.created_at),
        )  # fmt: skip
    except Exception as exc:
        refused = version_refused(exc, "strategy", strategy.version, strategy.id,
                                  strategy.client_id)  # fmt: skip
        if refused is None:
            raise
        raise refused from exc
    return rows.strategy_from(row)


async def get_strategy(conn: Conn, client_id: uuid.UUID, version: int | None) -> Strategy | None:
    if version is None:
        row = await conn.fetchrow(f"{_STRATEGY} WHERE client_id = $1 AND active", client_id)
    else:
        row = await conn.fetchrow(
            f"{_STRATEGY} WHERE client_id = $1 AND version = $2", client_id, version
        )
    return None if row is None else rows.strategy_from(row)


async def list_strategies(conn: Conn, client_id: uuid.UUID) -> list[Strategy]:
    found = await conn.fetch(f"{_STRATEGY} WHERE client_id = $1 ORDER BY version", client_id)
    return [rows.strategy_from(r) for r in found]


async def set_active_strategy(
    conn: Conn, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
) -> Strategy | None:
    found = await get_strategy(conn, client_id, version)
    if found is None:
        return None
    checks.check_history(found, entry)
    row = await conn.fetchrow(
        "SELECT * FROM contentgen_set_active_strategy($1, $2, $3, $4, $5, $6::jsonb, $7)",
        client_id, version, entry.id, entry.strategy_id, entry.action,
        json.dumps(entry.changes, ensure_ascii=False), aware(entry.created_at),
    )  # fmt: skip
    return None if row is None else rows.strategy_from(row)


async def strategy_history(conn: Conn, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
    found = await conn.fetch(f"{_HISTORY} WHERE client_id = $1 ORDER BY seq", client_id)
    return [rows.history_from(r) for r in found]


# seo rules, preferences ----------
async def add_seo_rule(conn: Conn, rule: SeoRule) -> SeoRule:
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO seo_rules (id, client_id, name, rule, created_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                rule.id, rule.client_id, rule.name, rule.rule, aware(rule.created_at),
            )  # fmt: skip
    except Exception as exc:
        if not is_integrity(exc):
            raise
        kind, name = constraint(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(rule.client_id)) from exc
        if kind == "unique" and name == "seo_rules_name":
            raise checks.rule_taken(rule.name) from exc
        if kind == "unique":
            raise checks.duplicate("seo rule", rule.id) from exc
        raise integrity_error(exc) from exc
    return rule


async def list_seo_rules(conn: Conn, client_id: uuid.UUID) -> list[SeoRule]:
    found = await conn.fetch(
        "SELECT id, client_id, name, rule, created_at FROM seo_rules WHERE client_id = $1 "
        "ORDER BY seq",
        client_id,
    )
    return [rows.rule_from(r) for r in found]


async def delete_seo_rule(conn: Conn, client_id: uuid.UUID, name: str) -> bool:
    status = await conn.execute(
        "DELETE FROM seo_rules WHERE client_id = $1 AND name = $2", client_id, name
    )
    deleted: bool = status != "DELETE 0"
    return deleted


async def set_preference(conn: Conn, pref: ContentPreference) -> ContentPreference:
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO content_preferences (id, client_id, key, value, created_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, key) DO UPDATE SET "
                "id = excluded.id, value = excluded.value, created_at = excluded.created_at",
                pref.id, pref.client_id, pref.key, pref.value, aware(pref.created_at),
            )  # fmt: skip
    except Exception as exc:
        if not is_integrity(exc):
            raise
        kind, _ = constraint(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(pref.client_id)) from exc
        if kind == "unique":
            raise checks.duplicate("preference", pref.id) from exc
        raise integrity_error(exc) from exc
    return pref


async def list_preferences(conn: Conn, client_id: uuid.UUID) -> list[ContentPreference]:
    found = await conn.fetch(
        "SELECT id, client_id, key, value, created_at FROM content_preferences "
        "WHERE client_id = $1 ORDER BY key",
        client_id,
    )
    return [rows.pref_from(r) for r in found]


async def delete_preference(conn: Conn, client_id: uuid.UUID, key: str) -> bool:
    status = await conn.execute(
        "DELETE FROM content_preferences WHERE client_id = $1 AND key = $2", client_id, key
    )
    deleted: bool = status != "DELETE 0"
    return deleted


# prompt templates ----------
_TEMPLATE = (
    "SELECT id, client_id, content_type, body, version, active, created_at FROM prompt_templates"
)


async def insert_template(conn: Conn, template: PromptTemplate) -> PromptTemplate:
    try:
        row = await conn.fetchrow(
            "SELECT * FROM contentgen_insert_template($1, $2, $3, $4, $5, $6, $7)",
            template.id, template.client_id, template.content_type.value, template.body,
            template.version, template.active, aware(template.created_at),
        )  # fmt: skip
    except Exception as exc:
        kind = f"{template.content_type.value} template"
        refused = version_refused(exc, kind, template.version, template.id, template.client_id)
        if refused is None:
            raise
        raise refused from exc
    return rows.template_from(row)


async def get_template(
    conn: Conn, client_id: uuid.UUID, content_type: ContentType, version: int | None
) -> PromptTemplate | None:
    where = f"{_TEMPLATE} WHERE client_id = $1 AND content_type = $2"
    if version is None:
        row = await conn.fetchrow(f"{where} AND active", client_id, content_type.value)
    else:
        row = await conn.fetchrow(
            f"{where} AND version = $3", client_id, content_type.value, version
        )
    return None if row is None else rows.template_from(row)


async def list_templates(conn: Conn, client_id: uuid.UUID) -> list[PromptTemplate]:
    found = await conn.fetch(
        f"{_TEMPLATE} WHERE client_id = $1 ORDER BY content_type, version", client_id
    )
    return [rows.template_from(r) for r in found]


# prompt jobs ----------
async def save_prompt_job(conn: Conn, job: PromptJob) -> PromptJob:
    await conn.execute(
        "INSERT INTO prompt_jobs (id, client_id, status, params, prompt, metadata, error, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9) "
        "ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, "
        "status = excluded.status, params = excluded.params, prompt = excluded.prompt, "
        "metadata = excluded.metadata, error = excluded.error, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at",
        job.id, job.params.client_id, job.status.value, job.params.model_dump_json(),
        job.prompt, None if job.metadata is None else job.metadata.model_dump_json(),
        job.error, aware(job.created_at), aware(job.updated_at),
    )  # fmt: skip
    return job


async def get_prompt_job(conn: Conn, job_id: uuid.UUID) -> PromptJob | None:
    row = await conn.fetchrow(
        "SELECT id, client_id, status, params, prompt, metadata, error, created_at, updated_at "
        "FROM prompt_jobs WHERE id = $1",
        job_id,
    )
    return None if row is None else rows.prompt_job_from(row)
