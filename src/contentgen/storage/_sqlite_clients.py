"""The synchronous SQL for clients and their setup revision (``SqliteStorage``'s thread)."""

from __future__ import annotations

import sqlite3
import uuid

from contentgen.errors import ClientNotFound
from contentgen.models import Client
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import (
    Conn,
    bump_revision,
    constraint_kind,
    one,
    require_client,
    storage_error,
    tx,
)

_INSERT = (
    "INSERT INTO clients (id, name, name_key, parent_id, created_at, setup_revision) "
    "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(setup_revision), 0) + 1 FROM clients))"
)
# The largest revision along the client's chain (the client, its parent, ...): it grows with
# every change of any of their setups. One statement, so it reads one consistent state.
_CHAIN_REVISION = (
    "WITH RECURSIVE chain (id, parent_id, revision, depth) AS ("
    "SELECT id, parent_id, setup_revision, 0 FROM clients WHERE id = ? "
    "UNION ALL SELECT c.id, c.parent_id, c.setup_revision, chain.depth + 1 "
    "FROM clients c JOIN chain ON c.id = chain.parent_id WHERE chain.depth < 64) "
    "SELECT COALESCE(MAX(revision), 0) FROM chain"
)


def add_client(conn: Conn, client: Client) -> Client:
    try:
        conn.execute(_INSERT, rows.client_params(client))
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
        bump_revision(conn, client_id)  # templates may use the client's name
    return new


_DELETE_CLIENT = (
    "DELETE FROM budget_reservations WHERE client_id = ?",
    "DELETE FROM budget_reservations WHERE job_id IN (SELECT id FROM jobs WHERE client_id = ?)",
    "DELETE FROM budgets WHERE client_id = ?",
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
        require_client(conn, client_id)
        (children,) = one(conn, "SELECT COUNT(*) FROM clients WHERE parent_id = ?", key)
        if children:
            raise checks.has_children(client_id, children)
        for sql in _DELETE_CLIENT:
            conn.execute(sql, key)


def setup_revision(conn: Conn, client_id: uuid.UUID) -> int:
    (revision,) = one(conn, _CHAIN_REVISION, (str(client_id),))
    return int(revision)
