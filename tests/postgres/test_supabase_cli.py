"""The CLI on a Supabase project through its REST API only (project URL + service_role key)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.storage import supabase as supabase_module
from contentgen.testing import FakeOpenAIServer, run_in_thread
from server_fixtures import SupabaseProject


@pytest.fixture
def provider(
    monkeypatch: pytest.MonkeyPatch, supabase: SupabaseProject
) -> Iterator[FakeOpenAIServer]:
    # Supabase serves PostgREST under /rest/v1 behind its gateway; the test PostgREST is bare
    original = supabase_module.SupabaseStorage.__init__

    def at_root(self: supabase_module.SupabaseStorage, url: str, key: str, **kw: object) -> None:
        original(self, url, key, rest_url=url, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(supabase_module.SupabaseStorage, "__init__", at_root)
    monkeypatch.setenv("CONTENTGEN_DATABASE_URL", "supabase+http://" + supabase.url[7:])
    monkeypatch.setenv("CONTENTGEN_SUPABASE_KEY", supabase.service_key())
    with run_in_thread() as started:
        monkeypatch.setenv("CONTENTGEN_API_BASE", started.base_url)
        monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-test-never-shown")
        monkeypatch.setenv("CONTENTGEN_MODEL", "openai/gpt-4o-mini")
        monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
        yield started
    structlog.reset_defaults()


def test_generate_and_status_through_postgrest(
    provider: FakeOpenAIServer, supabase: SupabaseProject
) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["generate", "--topic", "Solar panels for offices", "-k", "solar"])
    assert made.exit_code == 0, made.output
    (job,) = json.loads(runner.invoke(app, ["jobs", "--json"]).stdout)
    status = json.loads(runner.invoke(app, ["status", job["job_id"], "--json"]).stdout)
    assert status["status"] == "completed"
    assert supabase.sql("SELECT count(*) FROM jobs WHERE status = 'completed'").strip() == "1"
    assert supabase.sql("SELECT count(*) FROM llm_usage").strip() == "1"
