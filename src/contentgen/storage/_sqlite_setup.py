"""The synchronous SQL for a client's setup: strategy versions and their history, SEO rules,
preferences and prompt templates (``SqliteStorage``'s thread).

These are primitives: which version comes next and what goes in the history is decided
above the backends (``setup_rules``). Every change bumps the client's setup revision in the
same transaction.
"""

from __future__ import annotations

import sqlite3
import uuid

from contentgen.errors import ClientNotFound
from contentgen.models import (
    ContentPreference,
    ContentType,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import (
    Conn,
    bump_revision,
    constraint_kind,
    next_seq,
    one,
    require_client,
    storage_error,
    tx,
)

_INSERT_STRATEGY = f"INSERT INTO strategies ({rows.STRATEGY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_HISTORY = (
    f"INSERT INTO strategy_history ({rows.HISTORY_COLS}, seq) "
    f"VALUES (?, ?, ?, ?, ?, ?, ?, {next_seq('strategy_history')})"
)
_INSERT_TEMPLATE = (
    f"INSERT INTO prompt_templates ({rows.TEMPLATE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _refused(
    exc: sqlite3.IntegrityError, kind: str, version: int, row_id: uuid.UUID
) -> Exception:
    """The model error for a refused insert of a versioned row."""
    found = constraint_kind(exc)
    if found == "unique" and ".version" in str(exc):
        return checks.version_taken(kind, version)
    if found == "unique":
        return checks.duplicate(kind, row_id)
    return storage_error(exc)


# strategies ----------------------------------------------------------------------------------
def insert_strategy(conn: Conn, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
    checks.check_history(strategy, entry)
    cid = str(strategy.client_id)
    with tx(conn):
        require_client(conn, strategy.client_id)
        if strategy.active:
            conn.execute(
                "UPDATE strategies SET active = FALSE WHERE client_id = ? AND active = TRUE",
                (cid,),
            )
        try:
            conn.execute(_INSERT_STRATEGY, rows.strategy_params(strategy))
        except sqlite3.IntegrityError as exc:
            raise _refused(exc, "strategy", strategy.version, strategy.id) from exc
        conn.execute(_INSERT_HISTORY, rows.history_params(entry))
        bump_revision(conn, strategy.client_id)
    return strategy


def set_active_strategy(
    conn: Conn, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
) -> Strategy | None:
    with tx(conn):
        found = get_strategy(conn, client_id, version)
        if found is None:
            return None
        checks.check_history(found, entry)
        conn.execute(
            "UPDATE strategies SET active = (version = ?) WHERE client_id = ?",
            (version, str(client_id)),
        )
        conn.execute(_INSERT_HISTORY, rows.history_params(entry))
        bump_revision(conn, client_id)
    return found.model_copy(update={"active": True})


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


def strategy_history(conn: Conn, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
    sql = f"SELECT {rows.HISTORY_COLS} FROM strategy_history WHERE client_id = ? ORDER BY seq"
    return [rows.history_from(r) for r in conn.execute(sql, (str(client_id),))]


# seo rules, preferences -------------------------------------------------------------------------
def add_seo_rule(conn: Conn, rule: SeoRule) -> SeoRule:
    with tx(conn):
        try:
            conn.execute(
                f"INSERT INTO seo_rules ({rows.RULE_COLS}, seq) "
                f"VALUES (?, ?, ?, ?, ?, {next_seq('seo_rules')})",
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
        bump_revision(conn, rule.client_id)
    return rule


def list_seo_rules(conn: Conn, client_id: uuid.UUID) -> list[SeoRule]:
    sql = f"SELECT {rows.RULE_COLS} FROM seo_rules WHERE client_id = ? ORDER BY seq"
    return [rows.rule_from(r) for r in conn.execute(sql, (str(client_id),))]


def _delete_and_bump(conn: Conn, sql: str, client_id: uuid.UUID, key: str) -> bool:
    with tx(conn):
        deleted = conn.execute(sql, (str(client_id), key)).rowcount > 0
        if deleted:
            bump_revision(conn, client_id)
    return deleted


def delete_seo_rule(conn: Conn, client_id: uuid.UUID, name: str) -> bool:
    sql = "DELETE FROM seo_rules WHERE client_id = ? AND name = ?"
    return _delete_and_bump(conn, sql, client_id, name)


def set_preference(conn: Conn, pref: ContentPreference) -> ContentPreference:
    with tx(conn):
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
        bump_revision(conn, pref.client_id)
    return pref


def list_preferences(conn: Conn, client_id: uuid.UUID) -> list[ContentPreference]:
    sql = f"SELECT {rows.PREF_COLS} FROM content_preferences WHERE client_id = ? ORDER BY key"
    return [rows.pref_from(r) for r in conn.execute(sql, (str(client_id),))]


def delete_preference(conn: Conn, client_id: uuid.UUID, key: str) -> bool:
    sql = "DELETE FROM content_preferences WHERE client_id = ? AND key = ?"
    return _delete_and_bump(conn, sql, client_id, key)


# prompt templates -----------------------------------------------------------------------------
def insert_template(conn: Conn, template: PromptTemplate) -> PromptTemplate:
    key = (str(template.client_id), template.content_type.value)
    with tx(conn):
        require_client(conn, template.client_id)
        if template.active:
            conn.execute(
                "UPDATE prompt_templates SET active = FALSE "
                "WHERE client_id = ? AND content_type = ? AND active = TRUE",
                key,
            )
        try:
            conn.execute(_INSERT_TEMPLATE, rows.template_params(template))
        except sqlite3.IntegrityError as exc:
            kind = f"{template.content_type.value} template"
            raise _refused(exc, kind, template.version, template.id) from exc
        bump_revision(conn, template.client_id)
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
