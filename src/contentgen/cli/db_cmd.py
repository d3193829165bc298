"""`contentgen db migrate|sql|status`: the PostgreSQL schema (SQLite migrates itself on open)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from contentgen.cli.common import configure_logging, fail, load_settings, out, print_json, sub_app
from contentgen.cli.options import AsJson

app = sub_app("The PostgreSQL/Supabase database schema.")


def _postgres_url() -> str:
    settings = load_settings()
    configure_logging(settings.log_level)
    url = settings.database_url
    if not url.lower().startswith(("postgresql", "postgres:")):
        fail(
            "CONTENTGEN_DATABASE_URL is not a postgresql:// URL; SQLite databases migrate "
            "themselves when opened",
            code=2,
        )
    return url


@app.command("migrate")
def migrate(as_json: AsJson = False) -> None:
    """Apply the migrations the database lacks (safe to run from several machines at once)."""
    from contentgen.errors import ContentgenError
    from contentgen.storage.postgres_migrate import migrate_url

    url = _postgres_url()
    try:
        applied = asyncio.run(migrate_url(url))
    except ContentgenError as exc:
        fail(exc.message)
    if as_json:
        print_json({"applied": applied})
    elif applied:
        out.print(f"applied migration(s) {', '.join(map(str, applied))}")
    else:
        out.print("the database is up to date")


@app.command("sql")
def sql(
    since: Annotated[
        int,
        typer.Option(
            "--since",
            metavar="VERSION",
            min=0,
            help="Only the migrations after this version (see `db status`).",
        ),
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """Print the migrations as one SQL script (for Supabase's SQL editor or a migrations
    folder); it records what it applies, so `db migrate` afterwards is a no-op."""
    from contentgen.storage.postgres_migrate import load_migrations, render_script

    chosen = [m for m in load_migrations() if m.version > since]
    script = render_script(chosen)
    if as_json:
        print_json({"versions": [m.version for m in chosen], "sql": script})
    else:
        sys.stdout.write(script)


@app.command("status")
def status(as_json: AsJson = False) -> None:
    """Applied and pending migration versions."""
    from contentgen.errors import ContentgenError
    from contentgen.storage.postgres_conn import connect
    from contentgen.storage.postgres_migrate import applied_versions, load_migrations

    url = _postgres_url()

    async def read() -> list[int]:
        conn = await connect(url)
        try:
            return await applied_versions(conn)
        finally:
            await conn.close()

    try:
        applied = asyncio.run(read())
    except ContentgenError as exc:
        fail(exc.message)
    pending = [m.version for m in load_migrations() if m.version not in applied]
    if as_json:
        print_json({"applied": applied, "pending": pending})
        return
    out.print(f"applied: {', '.join(map(str, applied)) or 'none'}")
    out.print(f"pending: {', '.join(map(str, pending)) or 'none'}")
