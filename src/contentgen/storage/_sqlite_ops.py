"""The synchronous SQL behind ``SqliteStorage`` (setup tables; jobs are in ``_sqlite_jobs``).

Every function runs on the storage's single worker thread.

The connection is in autocommit mode: a single statement commits by itself, and operations of
several statements run inside ``tx`` (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    StrategyConfig,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows

Conn = sqlite3.Connection


@contextmanager
def tx(conn: Conn) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def constraint_kind(exc: sqlite3.IntegrityError) -> str:
    """``unique`` / ``foreign_key`` / other constraint name, from the extended error code."""
    name: str = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return "unique"
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return "foreign_key"
    return name or "constraint"


def storage_error(exc: sqlite3.IntegrityError) -> StorageError:
    return StorageError(f"database constraint violated: {exc}")


def one(conn: Conn, sql: str, params: tuple[Any, ...]) -> Any:
    return conn.execute(sql, params).fetchone()


def _client_exists(conn: Conn, client_id: uuid.UUID) -> bool:
    return one(conn, "SELECT 1 FROM clients WHERE id = ?", (str(client_id),)) is not None


def _require_client(conn: Conn, client_id: uuid.UUID) -> None:
    if not _client_exists(conn, client_id):
        raise ClientNotFound(str(client_id))


# clients -------------------------------------------------------------------------------------
def add_client(conn: Conn, client: Client) -> Client:
    try:
        conn.execute(
            "INSERT INTO clients (id, name, name_key, parent_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows.client_params(client),
        )
    except sqlite3.IntegrityError as exc:
        kind = constraint_kind(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(client.parent_id)) from exc
        if kind == "unique" and "name_key" in str(exc):
            raise checks.name_taken(client.name) from exc
        if kind == "unique":
            raise checks.duplicate("client", client.id) from exc
        raise storage_error(exc) from exc
    return client


def get_client(conn: Conn, client_id: uuid.UUID) -> Client | None:
    row = one(conn, f"SELECT {rows.CLIENT_COLS} FROM clients WHERE id = ?", (str(client_id),))
    return None if row is None else rows.client_from(row)


def get_client_by_name(conn: Conn, name: str) -> Client | None:
    sql = f"SELECT {rows.CLIENT_COLS} FROM clients WHERE name_key = ?"
    row = one(conn, sql, (rows.name_key(name),))
    return None if row is None else rows.client_from(row)


def list_clients(conn: Conn) -> list[Client]:
    cur = conn.execute(f"SELECT {rows.CLIENT_COLS} FROM clients ORDER BY name_key")
    return [rows.client_from(r) for r in cur]


def rename_client(conn: Conn, client_id: uuid.UUID, name: str) -> Client:
    with tx(conn):
        current = get_client(conn, client_id)
        if current is None:
            raise ClientNotFound(str(client_id))
        new = checks.renamed(current, name)
        try:
            conn.execute(
                "UPDATE clients SET name = ?, name_key = ? WHERE id = ?",
                (new.name, rows.name_key(new.name), str(client_id)),
            )
        except sqlite3.IntegrityError as exc:
            raise checks.name_taken(new.name) from exc
    return new


_DELETE_CLIENT = (
    "DELETE FROM llm_usage WHERE client_id = ?",
    "DELETE FROM llm_usage WHERE job_id IN (SELECT id FROM jobs WHERE client_id = ?)",
    "DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE client_id = ?)",
    "DELETE FROM job_leases WHERE job_id IN (SELECT id FROM jobs WHERE client_id = ?)",
    "DELETE FROM jobs WHERE client_id = ?",
    "DELETE FROM prompt_jobs WHERE client_id = ?",
    "DELETE FROM strategy_history WHERE client_id = ?",
    "DELETE FROM strategies WHERE client_id = ?",
    "DELETE FROM seo_rules WHERE client_id = ?",
    "DELETE FROM content_preferences WHERE client_id = ?",
    "DELETE FROM prompt_templates WHERE client_id = ?",
    "DELETE FROM clients WHERE id = ?",
)


def delete_client(conn: Conn, client_id: uuid.UUID) -> None:
    key = (str(client_id),)
    with tx(conn):
        _require_client(conn, client_id)
        (children,) = one(conn, "SELECT COUNT(*) FROM clients WHERE parent_id = ?", key)
        if children:
            raise checks.has_children(client_id, children)
        for sql in _DELETE_CLIENT:
            conn.execute(sql, key)


# strategies ----------------------------------------------------------------------------------
def add_strategy(
    conn: Conn, client_id: uuid.UUID, name: str, config: StrategyConfig, changes: list[str]
) -> Strategy:
    cid = str(client_id)
    with tx(conn):
        _require_client(conn, client_id)
        (top,) = one(conn, "SELECT MAX(version) FROM strategies WHERE client_id = ?", (cid,))
        strategy = Strategy(
            client_id=client_id, name=name, config=config, version=(top or 0) + 1, active=True
        )
        history = StrategyHistoryEntry(
            strategy_id=strategy.id,
            client_id=client_id,
            version=strategy.version,
            action="created",
            changes=list(changes),
            created_at=strategy.created_at,
        )
        conn.execute(
            "UPDATE strategies SET active = FALSE WHERE client_id = ? AND active = TRUE", (cid,)
        )
        conn.execute(
            f"INSERT INTO strategies ({rows.STRATEGY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows.strategy_params(strategy),
        )
        _insert_history(conn, history)
    return strategy


def _insert_history(conn: Conn, entry: StrategyHistoryEntry) -> None:
    conn.execute(
        f"INSERT INTO strategy_history ({rows.HISTORY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows.history_params(entry),
    )


def get_strategy(conn: Conn, client_id: uuid.UUID, version: int | None) -> Strategy | None:
    base = f"SELECT {rows.STRATEGY_COLS} FROM strategies WHERE client_id = ?"
    if version is None:
        row = one(conn, base + " AND active = TRUE", (str(client_id),))
    else:
        row = one(conn, base + " AND version = ?", (str(client_id), version))
    return None if row is None else rows.strategy_from(row)


def list_strategies(conn: Conn, client_id: uuid.UUID) -> list[Strategy]:
    sql = f"SELECT {rows.STRATEGY_COLS} FROM strategies WHERE client_id = ? ORDER BY version"
    return [rows.strategy_from(r) for r in conn.execute(sql, (str(client_id),))]


def activate_strategy(conn: Conn, client_id: uuid.UUID, version: int) -> Strategy:
    with tx(conn):
        found = get_strategy(conn, client_id, version)
        if found is None:
            raise checks.strategy_not_found(client_id, version)
        conn.execute(
            "UPDATE strategies SET active = (version = ?) WHERE client_id = ?",
            (version, str(client_id)),
        )
        _insert_history(
            conn,
            StrategyHistoryEntry(
                strategy_id=found.id, client_id=client_id, version=version, action="activated"
            ),
        )
    found.active = True
    return found


def strategy_history(conn: Conn, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
    sql = (
        f"SELECT {rows.HISTORY_COLS} FROM strategy_history WHERE client_id = ? "
        "ORDER BY created_at, rowid"
    )
    return [rows.history_from(r) for r in conn.execute(sql, (str(client_id),))]


# seo rules, preferences -------------------------------------------------------------------------
def add_seo_rule(conn: Conn, rule: SeoRule) -> SeoRule:
    try:
        conn.execute(
            f"INSERT INTO seo_rules ({rows.RULE_COLS}) VALUES (?, ?, ?, ?, ?)",
            rows.rule_params(rule),
        )
    except sqlite3.IntegrityError as exc:
        kind = constraint_kind(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(rule.client_id)) from exc
        if kind == "unique" and "seo_rules.name" in str(exc):
            raise checks.rule_taken(rule.name) from exc
        if kind == "unique":
            raise checks.duplicate("seo rule", rule.id) from exc
        raise storage_error(exc) from exc
    return rule


def list_seo_rules(conn: Conn, client_id: uuid.UUID) -> list[SeoRule]:
    sql = f"SELECT {rows.RULE_COLS} FROM seo_rules WHERE client_id = ? ORDER BY created_at, rowid"
    return [rows.rule_from(r) for r in conn.execute(sql, (str(client_id),))]


def delete_seo_rule(conn: Conn, client_id: uuid.UUID, name: str) -> bool:
    cur = conn.execute(
        "DELETE FROM seo_rules WHERE client_id = ? AND name = ?", (str(client_id), name)
    )
    return cur.rowcount > 0


def set_preference(conn: Conn, pref: ContentPreference) -> ContentPreference:
    try:
        conn.execute(
            f"INSERT INTO content_preferences ({rows.PREF_COLS}) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (client_id, key) DO UPDATE SET "
            "id = excluded.id, value = excluded.value, created_at = excluded.created_at",
            rows.pref_params(pref),
        )
    except sqlite3.IntegrityError as exc:
        kind = constraint_kind(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(pref.client_id)) from exc
        if kind == "unique":
            raise checks.duplicate("preference", pref.id) from exc
        raise storage_error(exc) from exc
    return pref


def list_preferences(conn: Conn, client_id: uuid.UUID) -> list[ContentPreference]:
    sql = f"SELECT {rows.PREF_COLS} FROM content_preferences WHERE client_id = ? ORDER BY key"
    return [rows.pref_from(r) for r in conn.execute(sql, (str(client_id),))]


def delete_preference(conn: Conn, client_id: uuid.UUID, key: str) -> bool:
    cur = conn.execute(
        "DELETE FROM content_preferences WHERE client_id = ? AND key = ?", (str(client_id), key)
    )
    return cur.rowcount > 0


# prompt templates -----------------------------------------------------------------------------
def add_template(
    conn: Conn, client_id: uuid.UUID, content_type: ContentType, body: str
) -> PromptTemplate:
    key = (str(client_id), content_type.value)
    where = "WHERE client_id = ? AND content_type = ?"
    with tx(conn):
        _require_client(conn, client_id)
        (top,) = one(conn, f"SELECT MAX(version) FROM prompt_templates {where}", key)
        template = PromptTemplate(
            client_id=client_id, content_type=content_type, body=body, version=(top or 0) + 1
        )
        conn.execute(f"UPDATE prompt_templates SET active = FALSE {where} AND active = TRUE", key)
        conn.execute(
            f"INSERT INTO prompt_templates ({rows.TEMPLATE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows.template_params(template),
        )
    return template


def get_template(
    conn: Conn, client_id: uuid.UUID, content_type: ContentType, version: int | None
) -> PromptTemplate | None:
    base = (
        f"SELECT {rows.TEMPLATE_COLS} FROM prompt_templates "
        "WHERE client_id = ? AND content_type = ?"
    )
    key = (str(client_id), content_type.value)
    if version is None:
        row = one(conn, base + " AND active = TRUE", key)
    else:
        row = one(conn, base + " AND version = ?", (*key, version))
    return None if row is None else rows.template_from(row)


def list_templates(conn: Conn, client_id: uuid.UUID) -> list[PromptTemplate]:
    sql = (
        f"SELECT {rows.TEMPLATE_COLS} FROM prompt_templates WHERE client_id = ? "
        "ORDER BY content_type, version"
    )
    return [rows.template_from(r) for r in conn.execute(sql, (str(client_id),))]


# prompt jobs ----------------------------------------------------------------------------------
def save_prompt_job(conn: Conn, job: PromptJob) -> PromptJob:
    conn.execute(
        f"INSERT INTO prompt_jobs ({rows.PROMPT_JOB_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, "
        "status = excluded.status, params = excluded.params, prompt = excluded.prompt, "
        "metadata = excluded.metadata, error = excluded.error, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at",
        rows.prompt_job_params(job),
    )
    return job


def get_prompt_job(conn: Conn, job_id: uuid.UUID) -> PromptJob | None:
    sql = f"SELECT {rows.PROMPT_JOB_COLS} FROM prompt_jobs WHERE id = ?"
    row = one(conn, sql, (str(job_id),))
    return None if row is None else rows.prompt_job_from(row)
