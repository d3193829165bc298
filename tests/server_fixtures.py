"""Fixtures for tests that need a real server: PostgreSQL, PostgREST (Supabase's REST layer),
Redis. Loaded for every test directory by ``tests/conftest.py``.

Each server starts once per session, on loopback, on a free port. Isolation per test:
PostgreSQL gives each test its own database (a copy of a migrated template, or an empty one);
PostgREST serves one database whose tables are emptied before each test (it loads its schema
cache from one database at start).

A test that uses one of these fixtures is marked ``postgres``, ``postgrest`` or ``redis``
automatically. Outside CI a missing server skips it with the reason; with ``CI=true`` it fails:
CI installs every server (``.ci/run``), so a server that cannot start is a broken build.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import pytest

from contentgen.testing.pgbouncer_server import PgBouncerServer
from contentgen.testing.postgres_server import PostgresServer, ServerUnavailable
from contentgen.testing.postgrest_server import PostgrestServer, supabase_bootstrap
from contentgen.testing.redis_server import RedisServer

MARKERS = {
    "redis_url": "redis",
    "redis_server": "redis",
    "postgres_server": "postgres",
    "postgres_url": "postgres",
    "postgres_empty_url": "postgres",
    "pgbouncer": "postgres",
    "postgrest": "postgrest",
    "supabase": "postgrest",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip locally, fail loudly in CI."""
    if in_ci():
        pytest.fail(f"CI=true and a test server is unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKERS.items():
            if fixture in names:
                item.add_marker(marker)


# Redis -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    except ServerUnavailable as exc:
        unavailable(str(exc))
    with server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` of a throwaway redis-server, stopped after the session."""
    return redis_server.url


# PostgreSQL ----------------------------------------------------------------------------------
TEMPLATE = "contentgen_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (superuser ``postgres``, trust auth, loopback)."""
    try:
        server = PostgresServer.start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    with server:
        yield server


def _migrate(url: str) -> None:
    """Migrate on a thread of its own: a session fixture may be set up from inside a running
    event loop (an async fixture asking for it with ``request.getfixturevalue``)."""
    from concurrent.futures import ThreadPoolExecutor

    from contentgen.storage.postgres_migrate import migrate_url

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, migrate_url(url)).result()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a database with every contentgen migration applied, copied per test."""
    _migrate(postgres_server.create_database(TEMPLATE))
    return TEMPLATE


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated database of this test's own."""
    url = postgres_server.create_database(template=postgres_template)
    yield url
    postgres_server.drop_database(_database_name(url))


@pytest.fixture
def postgres_empty_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database (no migrations)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(_database_name(url))


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: PostgresServer) -> Iterator[PgBouncerServer]:
    """PgBouncer in transaction mode in front of the session's server (any database)."""
    try:
        bouncer = PgBouncerServer.start(postgres_server)
    except ServerUnavailable as exc:
        unavailable(str(exc))
    with bouncer:
        yield bouncer


# PostgREST (Supabase) --------------------------------------------------------------------------
@dataclass
class SupabaseProject:
    """What a Supabase user has: a project URL and keys; plus the direct database URL."""

    rest: PostgrestServer
    pg: PostgresServer
    database: str

    @property
    def url(self) -> str:
        return self.rest.url

    @property
    def database_url(self) -> str:
        return self.pg.url(self.database)

    def service_key(self) -> str:
        return self.rest.service_key()

    def anon_key(self) -> str:
        return self.rest.anon_key()

    def user_token(self, user_id: str) -> str:
        return self.rest.user_token(user_id)

    def sql(self, sql: str) -> str:
        return self.pg.psql(sql, self.database)

    def truncate(self) -> None:
        """Empty every contentgen table (not the migration records)."""
        self.sql(
            "DO $$ DECLARE t text; BEGIN "
            "SELECT string_agg(format('%I', tablename), ', ') INTO t FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'contentgen_migrations'; "
            "IF t IS NOT NULL THEN EXECUTE 'TRUNCATE ' || t || ' CASCADE'; END IF; END $$"
        )


@pytest.fixture(scope="session")
def postgrest(postgres_server: PostgresServer) -> Iterator[SupabaseProject]:
    """A migrated database set up like a Supabase project, behind a real PostgREST 12."""
    database = "supabase_project"
    url = postgres_server.create_database(database)
    supabase_bootstrap(postgres_server, database)
    _migrate(url)
    try:
        rest = PostgrestServer.start(postgres_server, database)
    except ServerUnavailable as exc:
        unavailable(str(exc))
    with rest:
        yield SupabaseProject(rest, postgres_server, database)


@pytest.fixture
def supabase(postgrest: SupabaseProject) -> SupabaseProject:
    """The session's Supabase-like project, with its tables emptied for this test."""
    postgrest.truncate()
    return postgrest
