"""Fixtures: an opened ``PostgresStorage`` on a database of the test's own, with a client;
``queue``: the same over PostgreSQL directly and over PostgREST (``SupabaseStorage``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from contentgen.models import Client
from contentgen.storage.base import Storage
from contentgen.storage.postgres import PostgresStorage


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # a CLI command points structlog at the runner's stderr, which is gone after the test
    yield
    structlog.reset_defaults()


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    async with PostgresStorage(postgres_url) as storage:
        yield storage


@pytest.fixture
async def acme(pg: PostgresStorage) -> Client:
    return await pg.add_client(Client(name="Acme"))


@pytest.fixture(params=["postgres", "supabase"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    """The SQL job queue through either backend that uses it."""
    if request.param == "postgres":
        storage: Storage = PostgresStorage(request.getfixturevalue("postgres_url"))
    else:
        from contentgen.storage.supabase import SupabaseStorage

        project = request.getfixturevalue("supabase")
        storage = SupabaseStorage(project.url, project.service_key(), rest_url=project.url)
    async with storage:
        yield storage


@pytest.fixture
async def client(queue: Storage) -> Client:
    return await queue.add_client(Client(name="Acme"))
