"""``open_storage(url)``: the storage backend a database URL names (not yet opened)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contentgen.errors import ConfigurationError
from contentgen.storage.base import Storage
from contentgen.storage.memory import MemoryStorage
from contentgen.storage.sqlite import SqliteStorage

ACCEPTED = (
    "sqlite:///PATH (sqlite:////absolute/path or sqlite:///relative/path), "
    "postgresql://USER:PASSWORD@HOST:PORT/DB, supabase://PROJECT.supabase.co or memory://"
)


def open_storage(url: str, **options: Any) -> Storage:
    """Build the backend for ``url``; open it with ``async with`` or ``await storage.open()``.

    ``sqlite:///`` is followed by the file path, so an absolute path gives four slashes
    (``sqlite:////var/lib/contentgen.db``) and ``sqlite:///data/contentgen.db`` is relative to
    the working directory. ``postgresql://USER:PASSWORD@HOST:PORT/DB`` gives
    ``PostgresStorage`` (extra ``postgres``); ``options`` go to it (``listen``, ``pooled``,
    ``pool_size``) and are ignored by the other backends. ``supabase://PROJECT.supabase.co``
    (``supabase+http://HOST:PORT`` for a local stack) gives ``SupabaseStorage`` with the key
    ``options["supabase_key"]`` (extra ``supabase``).
    """
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigurationError(
            f"database URL {url!r} has no scheme; use {ACCEPTED}", field="database_url"
        )
    if scheme == "memory":
        if rest not in ("", "/"):
            raise ConfigurationError(
                f"database URL {url!r}: memory:// takes no path", field="database_url"
            )
        return MemoryStorage()
    if scheme == "sqlite":
        if not rest.startswith("/") or not rest[1:]:
            raise ConfigurationError(
                f"database URL {url!r} has no file path; use {ACCEPTED}", field="database_url"
            )
        return SqliteStorage(Path(rest[1:]).expanduser())
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        from contentgen.storage.postgres import PostgresStorage

        known = ("listen", "pooled", "pool_size")
        return PostgresStorage(url, **{k: v for k, v in options.items() if k in known})
    if scheme in ("supabase", "supabase+https", "supabase+http"):
        return _supabase(url, scheme, rest, options.get("supabase_key"))
    raise ConfigurationError(
        f"unsupported database URL scheme {scheme!r}; use {ACCEPTED}", field="database_url"
    )


def _supabase(url: str, scheme: str, rest: str, key: object) -> Storage:
    from contentgen.storage.supabase import SupabaseStorage

    host = rest.strip("/")
    if not host:
        raise ConfigurationError(
            f"database URL {url!r} names no project; use supabase://PROJECT.supabase.co",
            field="database_url",
        )
    if not key:
        raise ConfigurationError(
            "a supabase:// database URL needs the project's service_role key in "
            "CONTENTGEN_SUPABASE_KEY",
            field="supabase_key",
        )
    http = "http" if scheme == "supabase+http" else "https"
    return SupabaseStorage(f"{http}://{host}", str(key))
