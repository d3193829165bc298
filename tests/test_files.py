"""Issue 7, point 13: the database, its -wal/-shm files, the cache and key files are readable
by their owner only (0600), and the directories contentgen creates are 0700."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from contentgen.cache import DiskCache
from contentgen.cli.app import app
from contentgen.files import private_dir, private_file, write_private
from contentgen.models import Client
from contentgen.storage.sqlite import SqliteStorage


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_sqlite_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = tmp_path / "new" / "dir" / "contentgen.db"
        async with SqliteStorage(db) as storage:
            await storage.add_client(Client(name="acme"))
            created = [db, db.with_name("contentgen.db-wal"), db.with_name("contentgen.db-shm")]
            assert all(p.exists() for p in created)
            assert {p.name: mode(p) for p in created} == {p.name: 0o600 for p in created}
        assert mode(tmp_path / "new") == mode(tmp_path / "new" / "dir") == 0o700
    finally:
        os.umask(old)


async def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o755)
    db = tmp_path / "shared" / "contentgen.db"
    async with SqliteStorage(db):
        pass
    db.chmod(0o644)
    async with SqliteStorage(db) as storage:
        await storage.add_client(Client(name="acme"))
        assert mode(db) == 0o600 and mode(db.with_name("contentgen.db-wal")) == 0o600
    assert mode(tmp_path / "shared") == 0o755  # a directory we did not create is left alone


async def test_disk_cache_directory_and_database_are_private(tmp_path: Path) -> None:
    async with DiskCache(tmp_path / "cache") as cache:
        await cache.set("k", b"v" * 100_000)  # large values go to files in sub-directories
        assert mode(tmp_path / "cache") == 0o700
        assert mode(tmp_path / "cache" / "cache.db") == 0o600


def test_a_fresh_home_is_private_after_a_command(tmp_path: Path) -> None:
    home = tmp_path / "home"  # CONTENTGEN_HOME, set by the autouse fixture
    result = CliRunner().invoke(app, ["generate", "--topic", "Solar panels", "-m", "fake/writer"])
    assert result.exit_code == 0, result.output
    assert mode(home) == 0o700 and mode(home / "cache") == 0o700
    assert mode(home / "contentgen.db") == 0o600


def test_helpers(tmp_path: Path) -> None:
    private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    private_file(tmp_path / "a" / "f")
    assert mode(tmp_path / "a" / "f") == 0o600
    write_private(tmp_path / "keys" / "keys.json", '{"openai": "sk-x"}')
    assert mode(tmp_path / "keys" / "keys.json") == 0o600 and mode(tmp_path / "keys") == 0o700
    write_private(tmp_path / "keys" / "keys.json", "{}")
    assert (tmp_path / "keys" / "keys.json").read_text() == "{}"
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["keys.json"]
