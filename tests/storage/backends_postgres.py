"""The PostgreSQL and Supabase/PostgREST entries of the storage backend registry.

postgres: a database of the test's own on the session's PostgreSQL server (a copy of a migrated
template; dropped after the test), opened by URL from other processes too.
supabase: the session's Supabase-like project behind a real PostgREST 12 (its tables emptied
before each test: PostgREST serves one database); only this process reaches it, since
``SupabaseStorage`` here talks to PostgREST's root rather than Supabase's ``/rest/v1``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from contentgen.storage import Storage

from .backends import Database


@asynccontextmanager
async def postgres_database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    from contentgen.storage.postgres import PostgresStorage

    url: str = request.getfixturevalue("postgres_url")

    def make() -> Storage:
        return PostgresStorage(url, migrate=False)

    yield Database(make, url=url)


@asynccontextmanager
async def supabase_database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    from contentgen.storage.supabase import SupabaseStorage

    project = request.getfixturevalue("supabase")
    key = project.service_key()

    def make() -> Storage:
        return SupabaseStorage(project.url, key, rest_url=project.url)

    yield Database(make)
