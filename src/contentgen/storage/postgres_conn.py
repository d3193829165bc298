"""Connecting to PostgreSQL with asyncpg (imported here, lazily: extra ``postgres``).

Why asyncpg rather than psycopg 3: it is the faster driver for the small queries a job queue
runs (binary protocol, prepared statements cached per connection), ships its own pool and a
``LISTEN`` API (``add_listener``), and is one wheel with no libpq. Behind a pooler in transaction
mode (PgBouncer, Supavisor on port 6543) prepared statements and ``LISTEN`` do not survive
between transactions: ``pooled=True`` turns the statement cache off, and the storage stops
listening and polls instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from contentgen.errors import MissingExtra, StorageError

if TYPE_CHECKING:
    import asyncpg

#: Supabase's pooler (Supavisor) serves transaction mode on this port.
TRANSACTION_POOLER_PORT = 6543


def import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:
        raise MissingExtra("postgres", "a postgresql:// database URL") from exc
    return asyncpg


def describe(url: str) -> str:
    """``host:port/database`` of ``url``: what errors and logs may show (never the password)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
    except ValueError:
        return "(unparsable database URL)"


def looks_pooled(url: str) -> bool:
    """True for a URL on Supavisor's transaction-mode port."""
    try:
        return urlsplit(url).port == TRANSACTION_POOLER_PORT
    except ValueError:
        return False


def dsn(url: str) -> str:
    """asyncpg wants ``postgresql://`` or ``postgres://``; accept ``postgresql+asyncpg://`` too."""
    scheme, _, rest = url.partition("://")
    if scheme.lower().startswith("postgresql+"):
        return f"postgresql://{rest}"
    return url


def _options(pooled: bool) -> dict[str, Any]:
    return {
        "statement_cache_size": 0 if pooled else 256,
        "server_settings": {"application_name": "contentgen"},
    }


def unreachable(url: str, exc: BaseException) -> StorageError:
    # str(exc) of a connection error names host and port, never the password
    return StorageError(f"cannot connect to PostgreSQL at {describe(url)}: {exc}")


async def connect(url: str, *, pooled: bool = False, timeout: float = 10.0) -> asyncpg.Connection:
    pg = import_asyncpg()
    try:
        conn: asyncpg.Connection = await pg.connect(dsn(url), timeout=timeout, **_options(pooled))
    except (OSError, TimeoutError, pg.PostgresError, pg.InterfaceError) as exc:
        raise unreachable(url, exc) from exc
    return conn


async def _keep_session(conn: Any) -> None:
    """Pool reset: nothing. asyncpg's default runs RESET ALL, UNLISTEN *, CLOSE ALL and
    pg_advisory_unlock_all() on every release, a round trip per operation that measured ~4 ms
    here; the storage leaves no session state (transaction-level locks only, LISTEN on its
    own connection). An open transaction is still rolled back by asyncpg itself."""


async def create_pool(
    url: str, *, pooled: bool = False, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    pg = import_asyncpg()
    try:
        pool: asyncpg.Pool = await pg.create_pool(
            dsn(url),
            min_size=min_size,
            max_size=max_size,
            timeout=10.0,
            reset=_keep_session,
            **_options(pooled),
        )
    except (OSError, TimeoutError, pg.PostgresError, pg.InterfaceError) as exc:
        raise unreachable(url, exc) from exc
    return pool
