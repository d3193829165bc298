"""Ordered SQL migrations shipped in ``contentgen.storage.migrations`` and their bookkeeping.

Each file ``NNNN_name.sql`` is applied once, in version order, in its own transaction together
with the row in ``_migrations`` that records it.
"""

from __future__ import annotations

import importlib.resources
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from contentgen.errors import StorageError

PACKAGE = "contentgen.storage.migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, order=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """The shipped migrations, ordered by version."""
    found: list[Migration] = []
    for entry in importlib.resources.files(PACKAGE).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    found.sort()
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"duplicate migration versions in {PACKAGE}: {versions}")
    return found


def applied_versions(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT version FROM _migrations ORDER BY version")]


def migrate(conn: sqlite3.Connection, migrations: list[Migration]) -> list[int]:
    """Apply the pending ``migrations``; returns the versions applied now.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = set(applied_versions(conn))
    known = {m.version for m in migrations}
    if newer := sorted(applied - known):
        raise StorageError(
            f"the database has schema version(s) {newer} that this contentgen does not know; "
            "upgrade contentgen (pip install -U contentgen)"
        )
    done: list[int] = []
    for m in migrations:
        if m.version in applied:
            continue
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        # executescript() commits any open transaction first, so the transaction is part of
        # the script. version and name come from a validated file name: safe to inline.
        script = (
            f"BEGIN IMMEDIATE;\n{m.sql}\n;\n"
            "INSERT INTO _migrations (version, name, applied_at) "
            f"VALUES ({m.version}, '{m.name}', '{now}');\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if m.version in applied_versions(conn):
                continue  # another process applied it between our read and our write
            raise StorageError(f"migration {m.name} failed: {exc}") from exc
        done.append(m.version)
    return done
