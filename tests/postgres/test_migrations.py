"""PostgreSQL migrations: applied once under a lock, recorded, a no-op the second time, and
the Supabase-only statements (realtime publication, row-level security) skipped on plain
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from contentgen.storage.postgres_conn import connect
from contentgen.storage.postgres_migrate import (
    applied_versions,
    load_migrations,
    migrate_url,
    render_script,
)
from contentgen.testing.postgres_server import PostgresServer
from contentgen.testing.postgrest_server import supabase_bootstrap

ALL = [m.version for m in load_migrations()]
TABLES = [
    "clients", "jobs", "job_leases", "llm_usage", "prompt_jobs", "strategies", "budgets",
    "budget_reservations",
]  # fmt: skip


async def _fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_migrations_apply_on_a_fresh_database_then_are_a_no_op(
    postgres_empty_url: str,
) -> None:
    assert ALL[:4] == [1, 2, 3, 4]
    assert await migrate_url(postgres_empty_url) == ALL
    assert await migrate_url(postgres_empty_url) == []
    conn = await connect(postgres_empty_url)
    try:
        assert await applied_versions(conn) == ALL
        for table in TABLES:
            assert await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
    finally:
        await conn.close()


async def test_migrating_from_several_machines_at_once_applies_each_migration_once(
    postgres_empty_url: str,
) -> None:
    results = await asyncio.gather(*(migrate_url(postgres_empty_url) for _ in range(6)))
    assert sorted(results, key=len) == [[]] * 5 + [ALL]
    rows = await _fetch(postgres_empty_url, "SELECT version FROM contentgen_migrations")
    assert sorted(r[0] for r in rows) == ALL


async def test_plain_postgresql_skips_realtime_and_row_level_security(
    postgres_empty_url: str,
) -> None:
    await migrate_url(postgres_empty_url)
    published = await _fetch(postgres_empty_url, "SELECT tablename FROM pg_publication_tables")
    assert published == []
    secured = await _fetch(
        postgres_empty_url,
        "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'",
    )
    assert secured == []


async def test_supabase_gets_jobs_in_the_realtime_publication_and_rls(
    postgres_server: PostgresServer, postgres_empty_url: str
) -> None:
    database = postgres_empty_url.rsplit("/", 1)[1]
    supabase_bootstrap(postgres_server, database)
    assert await migrate_url(postgres_empty_url) == ALL
    assert await migrate_url(postgres_empty_url) == []
    published = await _fetch(
        postgres_empty_url,
        "SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'",
    )
    assert published == [("jobs",)]
    secured = {
        r[0]
        for r in await _fetch(
            postgres_empty_url, "SELECT relname FROM pg_class WHERE relrowsecurity"
        )
    }
    assert set(TABLES) <= secured


def test_jobs_already_in_the_publication_is_not_added_twice(
    postgres_server: PostgresServer, postgres_empty_url: str
) -> None:
    database = postgres_empty_url.rsplit("/", 1)[1]
    supabase_bootstrap(postgres_server, database)
    first_two = [m for m in load_migrations() if m.version < 3]
    postgres_server.psql(render_script(first_two), database)
    postgres_server.psql("ALTER PUBLICATION supabase_realtime ADD TABLE jobs", database)
    assert asyncio.run(migrate_url(postgres_empty_url)) == ALL[2:]


def test_db_sql_script_pasted_into_an_sql_editor_gives_the_same_schema(
    postgres_server: PostgresServer, postgres_empty_url: str
) -> None:
    database = postgres_empty_url.rsplit("/", 1)[1]
    postgres_server.psql(render_script(load_migrations()), database)
    assert asyncio.run(migrate_url(postgres_empty_url)) == []


async def test_anon_key_reads_nothing_through_the_rest_api(supabase: object) -> None:
    from server_fixtures import SupabaseProject

    assert isinstance(supabase, SupabaseProject)
    supabase.sql(
        "INSERT INTO clients (id, name, name_key, created_at) "
        "VALUES (gen_random_uuid(), 'Acme', 'acme', now())"
    )
    async with httpx.AsyncClient(base_url=supabase.url) as http:
        anon = await http.get(
            "/clients", headers={"Authorization": f"Bearer {supabase.anon_key()}"}
        )
        service = await http.get(
            "/clients", headers={"Authorization": f"Bearer {supabase.service_key()}"}
        )
        claim = await http.post(
            "/rpc/contentgen_claim_jobs",
            json={"p_holder": "x", "p_limit": 1, "p_lease_seconds": 5, "p_max_attempts": 3},
            headers={"Authorization": f"Bearer {supabase.anon_key()}"},
        )
        reserve = await http.post(
            "/rpc/contentgen_reserve_budget",
            json={"p_id": str(uuid.uuid4()), "p_client_id": str(uuid.uuid4()),
                  "p_job_id": str(uuid.uuid4()), "p_amount_nanos": 1, "p_limit_nanos": 10,
                  "p_since": "2024-01-01T00:00:00Z", "p_until": "2024-02-01T00:00:00Z"},
            headers={"Authorization": f"Bearer {supabase.anon_key()}"},
        )  # fmt: skip
    assert reserve.status_code in (401, 403, 404)
    assert anon.status_code == 200 and anon.json() == []
    assert [c["name"] for c in service.json()] == ["Acme"]
    assert claim.status_code in (401, 403, 404)
