"""`contentgen db migrate|sql|status` against a real PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.storage.postgres_migrate import load_migrations
from contentgen.testing.postgres_server import PostgresServer

ALL = [m.version for m in load_migrations()]


def _db(monkeypatch: pytest.MonkeyPatch, url: str) -> CliRunner:
    monkeypatch.setenv("CONTENTGEN_DATABASE_URL", url)
    return CliRunner()


def test_migrate_then_status(monkeypatch: pytest.MonkeyPatch, postgres_empty_url: str) -> None:
    runner = _db(monkeypatch, postgres_empty_url)
    before = runner.invoke(app, ["db", "status", "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.output) == {"applied": [], "pending": ALL}
    first = runner.invoke(app, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("applied migration(s) 1, 2, 3, 4")
    again = runner.invoke(app, ["db", "migrate", "--json"])
    assert json.loads(again.output) == {"applied": []}
    after = runner.invoke(app, ["db", "status"])
    assert "pending: none" in after.output


def test_sql_prints_a_script_that_migrate_then_finds_applied(
    monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer, postgres_empty_url: str
) -> None:
    runner = _db(monkeypatch, postgres_empty_url)
    script = runner.invoke(app, ["db", "sql"])
    assert script.exit_code == 0
    assert "CREATE TABLE jobs" in script.output and "supabase_realtime" in script.output
    postgres_server.psql(script.output, postgres_empty_url.rsplit("/", 1)[1])
    assert json.loads(runner.invoke(app, ["db", "migrate", "--json"]).output) == {"applied": []}
    later = runner.invoke(app, ["db", "sql", "--since", "2"])
    assert "CREATE TABLE jobs" not in later.output and "0003_supabase.sql" in later.output


def test_sqlite_url_is_refused_and_unreachable_server_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    runner = _db(monkeypatch, "sqlite:///x.db")
    refused = runner.invoke(app, ["db", "migrate"])
    assert refused.exit_code == 2 and "not a postgresql:// URL" in refused.output
    from contentgen.testing.postgres_server import free_port

    monkeypatch.setenv("CONTENTGEN_DATABASE_URL", f"postgresql://u:pw@127.0.0.1:{free_port()}/d")
    down = runner.invoke(app, ["db", "migrate"])
    assert down.exit_code == 1
    assert "cannot connect to PostgreSQL" in down.output and "pw" not in down.output
