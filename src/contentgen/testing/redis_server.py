"""A throwaway ``redis-server`` on a free loopback port, without persistence::

with RedisServer.start(workdir) as redis:
    url = redis.url            # redis://127.0.0.1:PORT/0
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

from contentgen.testing.postgres_server import ServerUnavailable, free_port

INSTALL_HINT = "redis-server not installed: apt-get install -y redis-server"


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, workdir: Path, *, attempts: int = 3) -> RedisServer:
        """Start one; raises ``ServerUnavailable`` with its output if it will not answer."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerUnavailable(INSTALL_HINT)
        for _ in range(attempts):  # a free port can be taken between probing and binding
            started = cls._try(binary, workdir)
            if started is not None:
                return started
        output = sorted(workdir.glob("redis-*"))
        tail = "\n".join(p.read_text(errors="replace")[-300:] for p in output).strip()
        raise ServerUnavailable(f"redis-server would not start on 127.0.0.1: {tail or '-'}")

    @classmethod
    def _try(cls, binary: str, workdir: Path) -> RedisServer | None:
        port = free_port()
        log = workdir / f"redis-{port}.log"
        # fmt: off
        argv = [
            binary, "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "no",
            "--save", "", "--appendonly", "no", "--dir", str(workdir), "--logfile", str(log),
        ]
        # fmt: on
        # Errors before the log file opens (bad arguments, ...) go to stdout/stderr: keep them.
        with open(workdir / f"redis-{port}.out", "wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        server = cls(proc, port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:  # exited: e.g. the port was taken meanwhile
                return None
            if _pings(port):
                return server
            time.sleep(0.01)
        server.stop()
        return None

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
