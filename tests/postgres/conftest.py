"""Fixtures: an opened ``PostgresStorage`` on a database of the test's own, with a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from contentgen.models import Client
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
