"""A throwaway PostgreSQL server for tests and benchmarks (the distribution's own binaries).

``initdb`` into a temporary directory, ``pg_ctl start`` on a free loopback port with durability
off (``fsync=off``: a test database never outlives a crash), and databases made on demand::

    with PostgresServer.start() as server:
        url = server.create_database()      # postgresql://postgres@127.0.0.1:PORT/db_...
        ...

PostgreSQL refuses to run as root, so when the caller is root the server runs as the ``postgres``
system user (``runuser -u postgres --``), which is how Debian's package sets it up. Nothing here
needs a Python driver: statements go through the server's own ``psql``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")
INSTALL_HINT = "PostgreSQL server binaries not found: apt-get install -y postgresql"
SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "wal_level=logical",  # so that publications (Supabase realtime) work as on Supabase
    "max_connections=300",
    "max_wal_senders=0",
    "log_min_messages=warning",
)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ServerUnavailable(RuntimeError):
    """A test server could not be found or started; the message says why."""


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL ``bin`` directory holding ``initdb`` and ``pg_ctl``."""
    if env := os.environ.get("CONTENTGEN_PG_BIN"):
        return Path(env)
    found: list[Path] = []
    for pattern in SEARCH:
        found += [Path(p) for p in glob.glob(pattern) if (Path(p) / "initdb").exists()]
    if not found and (initdb := shutil.which("initdb")):
        found.append(Path(initdb).parent)

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", str(p))) or (0,)

    return max(found, key=version) if found else None


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs the server binaries, and the account they run as."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServerUnavailable("running as root and there is no 'postgres' user") from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root and runuser is missing")
    return [runuser, "-u", "postgres", "--"], account


@dataclass
class PostgresServer:
    """A running throwaway server; ``stop()`` (or leaving ``with``) removes everything."""

    bin_dir: Path
    root: Path
    port: int
    prefix: list[str] = field(default_factory=list)
    user: str = "postgres"

    @classmethod
    def start(cls, *, bin_dir: Path | None = None, attempts: int = 3) -> PostgresServer:
        """initdb + start; raises ``ServerUnavailable`` with the server's log on failure."""
        bin_dir = bin_dir or find_bin_dir()
        if bin_dir is None:
            raise ServerUnavailable(INSTALL_HINT)
        prefix, account = _as_user()
        root = Path(tempfile.mkdtemp(prefix="contentgen-pg-"))
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        try:
            _run([*prefix, str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
            last = ""
            for _ in range(attempts):  # a free port can be taken between probing and binding
                server = cls(bin_dir, root, free_port(), prefix)
                try:
                    server._pg_ctl_start()
                    return server
                except ServerUnavailable as exc:
                    last = str(exc)
            raise ServerUnavailable(last)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise

    def _pg_ctl_start(self) -> None:
        options = " ".join(
            [f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"]
            + [f"-c {s}" for s in SETTINGS]
        )
        log = self.root / "server.log"
        argv = [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"),
                "-l", str(log), "-o", options, "-w", "-t", "30", "start"]  # fmt: skip
        try:
            _run(argv)
        except ServerUnavailable as exc:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise ServerUnavailable(f"{exc}\n{tail}") from None

    def stop(self) -> None:
        with contextlib.suppress(ServerUnavailable):
            _run([*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"),
                  "-m", "immediate", "-w", "stop"])  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    # -- use ---------------------------------------------------------------------------------
    def url(self, database: str = "postgres", *, user: str | None = None,
            password: str | None = None) -> str:  # fmt: skip
        """``postgresql://USER[:PASSWORD]@127.0.0.1:PORT/DATABASE`` (trust auth: no password)."""
        auth = user or self.user
        if password is not None:
            auth += f":{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` (stops at the first error) and return psql's unaligned output."""
        argv = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                "-d", database]  # fmt: skip
        return _run(argv, stdin=sql)

    def create_database(self, name: str | None = None, *, template: str = "template0") -> str:
        """Create a database (a copy of ``template``) and return its URL."""
        name = name or f"db_{uuid.uuid4().hex[:12]}"
        _check_ident(name)
        _check_ident(template)
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        _check_ident(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_ident(name: str) -> None:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerUnavailable(f"{Path(argv[0]).name}: {exc}") from exc
    if done.returncode != 0:
        cmd = Path(argv[_cmd_index(argv)]).name
        raise ServerUnavailable(f"{cmd} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _cmd_index(argv: Sequence[str]) -> int:
    """Index of the program after a ``runuser -u USER --`` prefix."""
    return argv.index("--") + 1 if "--" in argv[:4] else 0
