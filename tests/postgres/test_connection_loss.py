"""Every pooled connection dies at once (a database restart, terminated sessions): the next
operation still succeeds, on fresh connections, instead of drawing a second dead one."""

from __future__ import annotations

import asyncio

import pytest

from contentgen.models import Client
from contentgen.storage.postgres import PostgresStorage
from contentgen.storage.postgres_conn import connect

pytestmark = pytest.mark.postgres


async def test_reads_survive_every_pooled_connection_dying(postgres_url: str) -> None:
    async with PostgresStorage(postgres_url, migrate=False) as storage:
        client = await storage.add_client(Client(name="Acme"))
        # several connections open and idle in the pool (held at once, so the pool grows)
        await asyncio.gather(*(storage._run(lambda c: c.execute("SELECT pg_sleep(0.2)"))
                               for _ in range(4)))  # fmt: skip
        admin = await connect(postgres_url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert killed >= 2
        for _ in range(3):
            found = await storage.get_client(client.id)
            assert found is not None and found.id == client.id
