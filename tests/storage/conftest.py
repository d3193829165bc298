"""Fixtures for the storage tests: every registered backend (``backends.py``), each test on a
database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from contentgen.models import Client
from contentgen.storage import SqliteStorage, Storage

from .backends import BACKENDS, Database, backend_params

StorageFactory = Callable[[], Storage]


@pytest.fixture(params=backend_params())
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    async with BACKENDS[request.param].factory(request) as database:
        yield database


@pytest.fixture
def make_storage(db: Database) -> StorageFactory:
    """Builds an unopened backend; every one built by a test is on the same data."""
    return db.make


@pytest.fixture
async def storage(db: Database) -> AsyncIterator[Storage]:
    async with db.make() as opened:
        yield opened


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with SqliteStorage(tmp_path / "data" / "contentgen.db") as opened:
        yield opened


@pytest.fixture
async def client(storage: Storage) -> Client:
    return await storage.add_client(Client(name="Acme"))
