"""`contentgen jobs` (list, cancel, retry, recover) and `contentgen batch` when the provider is
down, through the CLI against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from contentgen.cli.app import app
from contentgen.client.local import LocalClient
from contentgen.models import Job, JobStatus
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

TOPIC = "Solar panels for small offices"


def cli(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def lib(work: Callable[[LocalClient], Awaitable[Any]]) -> Any:
    """Library code on the database the CLI uses."""

    async def main() -> Any:
        async with LocalClient.from_settings(Settings()) as cg:
            cg.run_submitted = False  # queue only: nothing runs in this process
            return await work(cg)

    return asyncio.run(main())


def queue(n: int, client: str = "default") -> list[Job]:
    async def work(cg: LocalClient) -> list[Job]:
        ids = [await cg.submit(topic=f"{TOPIC} {i}", client=client) for i in range(n)]
        return [await cg.status(i) for i in ids]

    return lib(work)


def test_jobs_lists_and_filters_as_before(provider: FakeOpenAIServer) -> None:
    cli("clients", "add", "acme")
    queue(2, "acme")
    listed = json.loads(cli("jobs", "--client", "acme", "--status", "pending", "--json").stdout)
    assert len(listed) == 2 and {j["status"] for j in listed} == {"pending"}
    assert json.loads(cli("jobs", "--status", "completed", "--json").stdout) == []
    assert "pending" in cli("jobs").stdout


def test_cancel_then_retry_then_refusals(provider: FakeOpenAIServer) -> None:
    [job] = queue(1)
    prefix = str(job.id)[:8]
    assert "cancelled" in cli("jobs", "cancel", prefix).stdout
    refused = cli("jobs", "cancel", prefix, code=1)
    assert "cancel" in refused.stderr.lower() and "Traceback" not in refused.stderr
    retried = json.loads(cli("jobs", "retry", prefix, "--json").stdout)
    assert retried["status"] == "completed"  # ran again, here, as a new attempt
    assert provider.requests_by_model["gpt-4o-mini"] == 1
    refused = cli("jobs", "retry", prefix, code=1)
    assert "completed" in refused.stderr  # the reason
    attempts = lib(lambda cg: cg.storage.job_attempts(job.id))
    assert [a.outcome for a in attempts] == ["completed"]


def test_retry_queue_only_leaves_it_for_a_worker(provider: FakeOpenAIServer) -> None:
    [job] = queue(1)
    cli("jobs", "cancel", str(job.id))
    assert "queued again" in cli("jobs", "retry", str(job.id), "--queue").stdout
    assert lib(lambda cg: cg.status(job.id)).status is JobStatus.PENDING
    assert provider.requests_by_model["gpt-4o-mini"] == 0


def test_recover_runs_waiting_jobs_once_and_exits(provider: FakeOpenAIServer) -> None:
    jobs = queue(3)
    body = json.loads(cli("jobs", "recover", "--json").stdout)
    assert body == {"runs": 3, "completed": 3}
    assert all(lib(lambda cg, j=j: cg.status(j.id)).status is JobStatus.COMPLETED for j in jobs)
    assert "nothing to recover" in cli("jobs", "recover").stdout
    assert provider.requests_by_model["gpt-4o-mini"] == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("quiet", [True, False])
def test_a_batch_stops_when_the_provider_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: bool
) -> None:
    """Issue 7, point 19: after a few rows that could not reach the provider, the batch stops
    taking rows, says why once and how to resume; -q prints no warning per row."""
    monkeypatch.setenv("CONTENTGEN_API_BASE", f"http://127.0.0.1:{_closed_port()}/v1")
    monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-test")
    monkeypatch.setenv("CONTENTGEN_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
    path = tmp_path / "in.csv"
    path.write_text("topic,content_type\n" + "".join(f"{TOPIC} {i},blog\n" for i in range(40)),
                    encoding="utf-8")  # fmt: skip
    args = ["batch", str(path), "--out", str(tmp_path / "out"), "-j", "2"]
    result = cli(*args, *(["-q"] if quiet else []), code=1)
    assert result.stderr.count("--resume") == 1, result.stderr
    assert "could not reach the provider" in result.stderr
    with (tmp_path / "out" / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert 5 <= len(rows) <= 10  # stopped after 5 in a row (plus the few in flight)
    assert {r["status"] for r in rows} == {"failed"}
    if quiet:
        assert "warning" not in result.stderr and "llm_" not in result.stderr


@pytest.mark.parametrize(
    ("status", "why"),
    [(401, "were refused by the provider (check its key)"),
     (503, "failed at the provider"),
     (429, "stayed rate-limited by the provider")],
)  # fmt: skip
def test_a_batch_stops_when_every_row_fails_at_the_provider_alike(
    tmp_path: Path, provider: FakeOpenAIServer, status: int, why: str
) -> None:
    """The rest of point 19's class: a provider that answers but fails every call the same way
    (a refused key, an outage behind a load balancer, a spent quota) stops the batch too."""
    provider.fail_model("gpt-4o-mini", status)
    path = tmp_path / "in.csv"
    path.write_text("topic,content_type\n" + "".join(f"{TOPIC} {i},blog\n" for i in range(40)),
                    encoding="utf-8")  # fmt: skip
    result = cli("batch", str(path), "--out", str(tmp_path / "out"), "-j", "2", "-q", code=1)
    assert result.stderr.count("--resume") == 1, result.stderr
    assert f"5 rows in a row {why}" in result.stderr
    assert "Once that is fixed, finish the rest with" in result.stderr
    with (tmp_path / "out" / "results.csv").open(encoding="utf-8") as handle:
        assert 5 <= len(list(csv.DictReader(handle))) <= 10


def test_failed_rows_that_are_not_in_a_row_do_not_stop_the_batch(
    tmp_path: Path, provider: FakeOpenAIServer
) -> None:
    provider.fail_next(4, 401)  # the first 4 calls are refused: at most 4 rows fail
    path = tmp_path / "in.csv"
    path.write_text("topic,content_type\n" + "".join(f"{TOPIC} {i},blog\n" for i in range(12)),
                    encoding="utf-8")  # fmt: skip
    result = cli("batch", str(path), "--out", str(tmp_path / "out"), "-j", "1", "-q", code=1)
    assert "--resume" not in result.stderr
    with (tmp_path / "out" / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and sum(r["status"] == "completed" for r in rows) >= 8
    assert any(r["status"] == "failed" for r in rows)
