"""``open_storage(url)``: which backend a database URL names."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentgen.errors import ConfigurationError
from contentgen.storage import MemoryStorage, SqliteStorage, open_storage


def test_memory() -> None:
    assert isinstance(open_storage("memory://"), MemoryStorage)


def test_sqlite_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "data" / "contentgen.db"
    storage = open_storage(f"sqlite:///{path}")  # the form Settings builds: four slashes
    assert isinstance(storage, SqliteStorage)
    assert storage.path == path


def test_sqlite_relative_path() -> None:
    storage = open_storage("sqlite:///data/contentgen.db")
    assert isinstance(storage, SqliteStorage)
    assert storage.path == Path("data/contentgen.db")


async def test_sqlite_storage_from_url_opens(tmp_path: Path) -> None:
    async with open_storage(f"sqlite:///{tmp_path / 'x.db'}") as storage:
        assert await storage.list_clients() == []
    assert (tmp_path / "x.db").is_file()


@pytest.mark.parametrize(
    "url", ["postgresql://user:secret@db/contentgen", "postgres://db/x", "postgresql+asyncpg://h"]
)
def test_postgres_urls_give_postgres_storage_that_never_shows_the_password(url: str) -> None:
    from contentgen.storage.postgres import PostgresStorage

    storage = open_storage(url)
    assert isinstance(storage, PostgresStorage)
    assert "secret" not in repr(storage)


async def test_unreachable_postgres_is_a_storage_error_without_the_password() -> None:
    from contentgen.errors import StorageError
    from contentgen.testing.postgres_server import free_port

    storage = open_storage(f"postgresql://user:secret@127.0.0.1:{free_port()}/db")
    with pytest.raises(StorageError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1") as e:
        await storage.open()
    assert "secret" not in str(e.value)


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "redis://localhost", "contentgen.db", "", "sqlite://", "sqlite:///"]
)
def test_unsupported_urls_name_the_accepted_schemes(url: str) -> None:
    with pytest.raises(ConfigurationError, match="sqlite:///PATH") as e:
        open_storage(url)
    assert "memory://" in str(e.value)


def test_supabase_urls_need_the_service_key_and_never_show_it() -> None:
    from contentgen.storage.supabase import SupabaseStorage

    with pytest.raises(ConfigurationError, match="CONTENTGEN_SUPABASE_KEY"):
        open_storage("supabase://abc.supabase.co")
    storage = open_storage("supabase://abc.supabase.co", supabase_key="sk-secret")
    assert isinstance(storage, SupabaseStorage)
    assert storage.rest_url == "https://abc.supabase.co/rest/v1"
    assert "sk-secret" not in repr(storage)
    local = open_storage("supabase+http://127.0.0.1:54321", supabase_key="k")
    assert isinstance(local, SupabaseStorage) and local.url == "http://127.0.0.1:54321"
