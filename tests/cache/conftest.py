"""Cache fixtures: a real ``redis-server`` on loopback for the ``redis`` tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "redis-server not installed: apt-get install -y redis-server"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    """Start redis-server on a free port; None if it exits or never answers PING."""
    port = _free_port()
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:  # exited: e.g. the port was taken meanwhile
            return None
        if _pings(port):
            return proc, port
        time.sleep(0.01)
    _stop(proc)
    return None


@pytest.fixture
def free_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    return _free_port()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a throwaway redis-server, stopped after the session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(INSTALL_HINT)
    workdir = tmp_path_factory.mktemp("redis")
    for _ in range(3):  # a free port can be taken between probing and binding
        started = _start(binary, workdir)
        if started is not None:
            break
    else:
        output = sorted(workdir.glob("redis-*"))
        tail = "\n".join(p.read_text(errors="replace")[-300:] for p in output).strip()
        pytest.skip(f"redis-server would not start on 127.0.0.1: {tail or '(no output)'}")
    proc, port = started
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)
