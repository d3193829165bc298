"""`contentgen serve`, `contentgen tokens create` and `--server URL`: a real server process
and the CLI following a job's event stream to completed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.testing import FakeOpenAIServer, run_in_thread

from .support import SECRET

TOPIC = "Solar energy benefits for small offices"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contentgen", *args], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str, lines: list[str]) -> None:
        self.proc, self.url, self.lines = proc, url, lines


@pytest.fixture
def provider() -> Iterator[FakeOpenAIServer]:
    with run_in_thread() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, provider: FakeOpenAIServer) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTGEN_")}
    values.update(CONTENTGEN_HOME=str(tmp_path / "home"), CONTENTGEN_API_BASE=provider.base_url,
                  CONTENTGEN_API_KEY="sk-test-never-shown", CONTENTGEN_MODEL="openai/gpt-4o-mini",
                  CONTENTGEN_RETRY_WAIT="0", CONTENTGEN_JWT_SECRET=SECRET)  # fmt: skip
    return values


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[Served]:
    assert _cli("clients", "add", "acme", env=env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen", "serve", "--port", "0"],
        env=env | {"CONTENTGEN_LOG_LEVEL": "info"}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match and not url:
                url.append(match.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(60), "".join(lines)
    try:
        yield Served(proc, url[0], lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, "".join(lines)


def test_cli_generates_through_the_server_following_its_event_stream(
    served: Served, env: dict[str, str], provider: FakeOpenAIServer
) -> None:
    made = _cli("tokens", "create", "--client", "acme", env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    remote = env | {"CONTENTGEN_TOKEN": token, "CONTENTGEN_HOME": env["CONTENTGEN_HOME"] + "-x"}
    done = _cli("--server", served.url, "generate", "--topic", TOPIC, "--client", "acme",
                "--keyword", "solar", env=remote)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# ") and len(done.stdout) > 100
    job_id = re.search(r"job ([0-9a-f-]{36})", done.stderr)
    assert job_id, done.stderr
    assert provider.requests >= 1
    time.sleep(0.2)
    requests = [line for line in served.lines if '"event": "request"' in line]
    events = [line for line in requests if f"/status/{job_id.group(1)}/events" in line]
    assert events and '"status": 200' in events[0], requests
    polls = [line for line in requests if f'"/status/{job_id.group(1)}"' in line]
    assert polls == []  # followed the stream, never polled
    # nothing of the server's secrets or the caller's token in its logs
    logged = "".join(served.lines)
    assert SECRET not in logged and token not in logged and "sk-test-never-shown" not in logged

    status = _cli("--server", served.url, "status", job_id.group(1), "--json", env=remote)
    assert status.returncode == 0 and '"completed"' in status.stdout
    prefix = _cli("--server", served.url, "status", job_id.group(1)[:8], env=remote)
    assert prefix.returncode == 2 and "whole job id" in prefix.stderr
    local_only = _cli("--server", served.url, "strategies", "history", "acme", env=remote)
    assert local_only.returncode == 1 and "local database only" in local_only.stderr


def test_cli_with_a_bad_token_says_why(served: Served, env: dict[str, str]) -> None:
    remote = env | {"CONTENTGEN_TOKEN": "not-a-token"}
    done = _cli("--server", served.url, "jobs", env=remote)
    assert done.returncode == 1
    assert "server refused the token: Malformed token" in done.stderr


runner = CliRunner()


def test_serve_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "CONTENTGEN_JWT_SECRET" in result.stderr and "--no-auth" in result.stderr


def test_serve_refuses_no_auth_off_loopback() -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--no-auth"])
    assert result.exit_code == 2
    assert "--no-auth: only on a loopback address" in result.stderr


def test_serve_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTGEN_JWT_SECRET", "hunter2")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "at least 32 bytes" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_tokens_create(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["clients", "add", "acme"]).exit_code == 0
    missing = runner.invoke(app, ["tokens", "create", "--client", "acme"])
    assert missing.exit_code == 1 and "CONTENTGEN_JWT_SECRET" in missing.stderr
    monkeypatch.setenv("CONTENTGEN_JWT_SECRET", SECRET)

    made = runner.invoke(app, ["tokens", "create", "--client", "acme", "--ttl", "2h"])
    assert made.exit_code == 0, made.stderr
    claims = jwt.decode(made.stdout.strip(), SECRET, algorithms=["HS256"])
    assert len(claims["clients"]) == 1 and claims["admin"] is False
    assert claims["exp"] - claims["iat"] == 7200

    admin = runner.invoke(app, ["tokens", "create", "--client", "*", "--admin"])
    claims = jwt.decode(admin.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["clients"] == "*" and claims["admin"] is True
    assert claims["exp"] - claims["iat"] == 30 * 86400

    unknown = runner.invoke(app, ["tokens", "create", "--client", "nobody"])
    assert unknown.exit_code == 1 and "nobody" in unknown.stderr
    bad_ttl = runner.invoke(app, ["tokens", "create", "--client", "acme", "--ttl", "soon"])
    assert bad_ttl.exit_code == 2 and "ttl" in bad_ttl.stderr


def test_serving_moves_the_start_up_heap_out_of_the_collectors_sight() -> None:
    import gc

    from contentgen.server.run import GC_GEN0, settle_heap

    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_GEN0, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
