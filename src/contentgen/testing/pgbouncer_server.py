"""A throwaway PgBouncer in *transaction* mode in front of a ``PostgresServer`` — the pooler
setup (like Supabase's port-6543 Supavisor) where prepared statements and ``LISTEN`` do not
survive between transactions::

    with PostgresServer.start() as pg, PgBouncerServer.start(pg) as bouncer:
        url = bouncer.url("mydb")     # postgresql://postgres@127.0.0.1:PORT/mydb

Debian's ``pgbouncer`` package; like PostgreSQL it will not run as root, so it runs as the same
user as the server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from contentgen.testing.postgres_server import PostgresServer, ServerUnavailable, free_port

INSTALL_HINT = "pgbouncer not installed: apt-get install -y pgbouncer"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class PgBouncerServer:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, pg: PostgresServer) -> PgBouncerServer:
        binary = shutil.which("pgbouncer") or (
            "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
        )
        if binary is None:
            raise ServerUnavailable(INSTALL_HINT)
        last = ""
        for _ in range(3):
            port = free_port()
            work = pg.root / f"pgbouncer-{port}"
            work.mkdir()
            (work / "users.txt").write_text('"postgres" ""\n')
            (work / "pgbouncer.ini").write_text(
                "[databases]\n"
                f"* = host=127.0.0.1 port={pg.port}\n"
                "[pgbouncer]\n"
                f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
                f"auth_type = trust\nauth_file = {work / 'users.txt'}\n"
                "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
                "ignore_startup_parameters = extra_float_digits,options\n"
                f"logfile = {work / 'pgbouncer.log'}\npidfile = {work / 'pgbouncer.pid'}\n"
            )
            if pg.prefix:  # it runs as the server's user, who must own its files
                for path in (work, *work.iterdir()):
                    shutil.chown(path, pg.user)
            log = work / "pgbouncer.log"
            proc = subprocess.Popen([*pg.prefix, binary, str(work / "pgbouncer.ini")],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            server = cls(proc, port, log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if _accepts(port):
                    return server
                time.sleep(0.02)
            server.stop()
            last = log.read_text(errors="replace")[-1000:] if log.exists() else ""
        raise ServerUnavailable(f"pgbouncer would not start: {last or '(no log)'}")

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
