"""The storage backends the contract suite runs on: a registry of isolated databases.

Each entry builds, for one test, a ``Database`` of its own (a temp file, a schema or a
database on a server): ``make()`` returns a new, unopened ``Storage`` on that data (call it
twice for two instances on one database), ``url`` is what another process passes to
``open_storage`` (None for a backend that lives in one process only; the cross-process tests
run on the backends that have one).

A backend joins the suite with one entry, e.g. in this module::

    from .backends_postgres import postgres_database
    BACKENDS["postgres"] = Backend(postgres_database, marks=(pytest.mark.postgres,))

A factory gets pytest's ``request`` (``request.getfixturevalue("tmp_path")``, or a
session-scoped server fixture) and is an async context manager: what it yields is dropped
on exit (drop the schema / database there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contentgen.storage import MemoryStorage, SqliteStorage, Storage


@dataclass(frozen=True)
class Database:
    make: Callable[[], Storage]
    url: str | None = None


DatabaseFactory = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Database]]


@dataclass(frozen=True)
class Backend:
    factory: DatabaseFactory
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())
    #: False when another process cannot open the database (the memory backend).
    cross_process: bool = True


@asynccontextmanager
async def memory_database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    first = MemoryStorage()
    handed: list[MemoryStorage] = []

    def make() -> Storage:
        handle = first if not handed else first.share()
        handed.append(handle)
        return handle

    yield Database(make)


@asynccontextmanager
async def sqlite_database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    path = tmp_path / "data" / "contentgen.db"
    yield Database(lambda: SqliteStorage(path), url=f"sqlite:///{path}")


BACKENDS: dict[str, Backend] = {
    "memory": Backend(memory_database, cross_process=False),
    "sqlite": Backend(sqlite_database),
}


def backend_params(*, cross_process: bool = False) -> list[object]:
    """``pytest.param`` per registered backend (with its marks), for ``parametrize``."""
    return [
        pytest.param(name, marks=backend.marks, id=name)
        for name, backend in BACKENDS.items()
        if backend.cross_process or not cross_process
    ]
