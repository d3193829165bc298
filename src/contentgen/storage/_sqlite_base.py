"""What every ``_sqlite_*`` module shares: transactions, constraint names, small helpers.

The connection is in autocommit mode: a single statement commits by itself, and operations of
several statements run inside ``tx`` (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error).
``BEGIN IMMEDIATE`` takes the write lock before the first read, so a read-then-write
operation is serialized against every other connection to the file, in any process.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contentgen.errors import ClientNotFound, StorageError

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


def next_seq(table: str) -> str:
    """SQL for the next value of ``table.seq`` (unique: SQLite has one writer at a time)."""
    return f"(SELECT COALESCE(MAX(seq), 0) + 1 FROM {table})"


def require_client(conn: Conn, client_id: uuid.UUID) -> None:
    if one(conn, "SELECT 1 FROM clients WHERE id = ?", (str(client_id),)) is None:
        raise ClientNotFound(str(client_id))


_BUMP = (
    "UPDATE clients SET setup_revision = (SELECT MAX(setup_revision) FROM clients) + 1 "
    "WHERE id = ?"
)


def bump_revision(conn: Conn, client_id: uuid.UUID) -> None:
    """The client's setup changed: give it the next revision (inside the change's ``tx``)."""
    conn.execute(_BUMP, (str(client_id),))
