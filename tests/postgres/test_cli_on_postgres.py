"""The CLI end to end on CONTENTGEN_DATABASE_URL=postgresql://..., against the local fake
provider: a job generated in one process is read back by another command."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.testing import FakeOpenAIServer, run_in_thread


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[FakeOpenAIServer]:
    monkeypatch.setenv("CONTENTGEN_DATABASE_URL", postgres_url)
    with run_in_thread() as started:
        monkeypatch.setenv("CONTENTGEN_API_BASE", started.base_url)
        monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-test-never-shown")
        monkeypatch.setenv("CONTENTGEN_MODEL", "openai/gpt-4o-mini")
        monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
        yield started
    structlog.reset_defaults()


def test_generate_then_status_and_jobs_on_postgres(provider: FakeOpenAIServer) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["generate", "--topic", "Solar panels for offices", "-k", "solar"])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("# ")
    listed = runner.invoke(app, ["jobs", "--json"])
    (job,) = json.loads(listed.stdout)
    status = json.loads(runner.invoke(app, ["status", job["job_id"], "--json"]).stdout)
    assert status["status"] == "completed"
    assert status["result"]["metadata"]["keywords_used"] == ["solar"]
    assert provider.requests >= 1
