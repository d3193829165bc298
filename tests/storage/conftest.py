"""Fixtures for the storage tests: every backend, opened on its own data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from contentgen.models import Client
from contentgen.storage import MemoryStorage, SqliteStorage, Storage

BACKENDS = ["memory", "sqlite", "postgres", "supabase"]

StorageFactory = Callable[[], Storage]


@pytest.fixture(params=BACKENDS)
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> StorageFactory:
    """Builds an unopened backend; every sqlite one built by a test shares the same file."""
    path = tmp_path / "data" / "contentgen.db"

    if request.param == "postgres":
        from contentgen.storage.postgres import PostgresStorage

        url: str = request.getfixturevalue("postgres_url")
        return lambda: PostgresStorage(url)
    if request.param == "supabase":
        from contentgen.storage.supabase import SupabaseStorage

        project = request.getfixturevalue("supabase")
        key = project.service_key()
        return lambda: SupabaseStorage(project.url, key, rest_url=project.url)

    def make() -> Storage:
        return MemoryStorage() if request.param == "memory" else SqliteStorage(path)

    return make


@pytest.fixture
async def storage(make_storage: StorageFactory) -> AsyncIterator[Storage]:
    async with make_storage() as opened:
        yield opened


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with SqliteStorage(tmp_path / "data" / "contentgen.db") as opened:
        yield opened


@pytest.fixture
async def client(storage: Storage) -> Client:
    return await storage.add_client(Client(name="Acme"))
