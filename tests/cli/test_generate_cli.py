"""`contentgen generate|status|jobs|prompt|models` through the real CLI (CliRunner)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.llm.pricing import cost as price_cost
from contentgen.testing.openai_server import FakeOpenAIServer

FAKE = ["--model", "fake/writer"]


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args))


def job_list(runner: CliRunner) -> list[dict[str, Any]]:
    result = invoke(runner, "jobs", "--json", "--limit", "100")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_generate_prints_markdown_and_status_shows_completed(runner: CliRunner) -> None:
    result = invoke(runner, "generate", "--topic", "Solar panels for offices", "-k", "solar",
                    *FAKE)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# ")
    job_id = result.stderr.split("job ", 1)[1].split(":", 1)[0]
    status = invoke(runner, "status", job_id, "--json")
    body = json.loads(status.stdout)
    assert body["status"] == "completed" and body["job_id"] == job_id
    meta = body["result"]["metadata"]
    for key in ("word_count", "keywords_used", "llm_provider", "model", "generation_cost",
                "generation_time_ms", "token_usage"):  # fmt: skip
        assert key in meta
    assert meta["model"] == "fake/writer" and meta["keywords_used"] == ["solar"]
    assert body["result"]["title"] and body["result"]["content"].startswith("# ")


def test_generate_json_and_out_file(runner: CliRunner, tmp_path: Any) -> None:
    target = tmp_path / "post.md"
    result = invoke(runner, "generate", "--topic", "Heat pumps explained", "--json",
                    "--out", str(target), *FAKE)  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "completed"
    assert target.read_text() == body["result"]["content"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--topic", "abc"], "topic"),
        (["--topic", "Solar power", "--type", "video"], "--type"),
        (["--topic", "Solar power", *[a for i in range(11) for a in ("-k", f"kw{i}")]],
         "keywords"),
        (["--topic", "Solar power", "-k", "x" * 51], "keywords"),
        (["--topic", "Solar power", "--client", "nobody"], "client"),
        (["--topic", "Solar power", "--length", "huge"], "--length"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line_and_no_job(
    runner: CliRunner, args: list[str], field: str
) -> None:
    result = invoke(runner, "generate", *args, *FAKE)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {field}")
    assert job_list(runner) == []


def test_type_error_names_allowed_values(runner: CliRunner) -> None:
    result = invoke(runner, "generate", "--topic", "Solar power", "--type", "video", *FAKE)
    expected = "error: --type: 'video' is not one of 'blog', 'social', 'local'"
    assert result.stderr.startswith(expected)
    assert "content_type" not in result.stderr


def test_litellm_end_to_end_against_local_server(
    runner: CliRunner, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTGEN_LLM_BACKEND", "litellm")
    result = invoke(runner, "generate", "--topic", "Solar panels for offices", "--json",
                    "--model", "openai/gpt-4o-mini")  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "completed"
    meta = body["result"]["metadata"]
    usage = meta["token_usage"]
    assert usage["input"] > 0 and usage["output"] > 0
    assert meta["generation_cost"] == pytest.approx(
        price_cost("openai/gpt-4o-mini", usage["input"], usage["output"]), rel=1e-9
    )
    import litellm

    expected = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=usage["input"], completion_tokens=usage["output"]
    )
    assert meta["generation_cost"] == pytest.approx(sum(expected), rel=1e-9)
    assert server.requests == 1
    assert meta["llm_provider"] == "openai"
    _assert_usage_row(body["job_id"], usage)


def _assert_usage_row(job_id: str, usage: dict[str, int]) -> None:
    import asyncio
    import uuid

    from contentgen.settings import Settings
    from contentgen.storage.factory import open_storage

    async def rows() -> list[Any]:
        async with open_storage(Settings().database_url) as storage:
            return await storage.list_usage(uuid.UUID(job_id))

    found = asyncio.run(rows())
    assert len(found) == 1
    assert (found[0].input_tokens, found[0].output_tokens) == (usage["input"], usage["output"])


@pytest.mark.parametrize("backend", ["litellm", "httpx"])
def test_http_500_after_retries_fails_the_job(
    runner: CliRunner, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setenv("CONTENTGEN_LLM_BACKEND", backend)
    server.fail_next(3, 500)
    result = invoke(runner, "generate", "--topic", "Solar panels for offices",
                    "--model", "openai/gpt-4o-mini")  # fmt: skip
    assert result.exit_code == 1
    assert server.requests == 3
    assert "failed" in result.stderr and "sk-test-never-shown" not in result.output
    [job] = job_list(runner)
    assert job["status"] == "failed" and job["error"]
    assert "500" in job["error"]


def test_refused_connection_fails_the_job(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CONTENTGEN_API_BASE", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
    result = invoke(runner, "generate", "--topic", "Solar panels for offices",
                    "--model", "openai/gpt-4o-mini")  # fmt: skip
    assert result.exit_code == 1
    [job] = job_list(runner)
    assert job["status"] == "failed"
    assert job["error"] and "Traceback" not in job["error"]


def test_status_of_unknown_job(runner: CliRunner) -> None:
    result = invoke(runner, "status", "00000000-0000-0000-0000-000000000001")
    assert result.exit_code == 1 and "Job not found" in result.stderr
    result = invoke(runner, "status", "not-a-uuid")
    assert result.exit_code == 1 and "Job not found" in result.stderr


def test_jobs_filters_by_client_and_status(runner: CliRunner) -> None:
    assert invoke(runner, "clients", "add", "acme").exit_code == 0
    invoke(runner, "generate", "--topic", "Solar for acme", "--client", "acme", *FAKE)
    invoke(runner, "generate", "--topic", "Solar for default", *FAKE)
    acme = json.loads(invoke(runner, "jobs", "--client", "acme", "--json").stdout)
    assert [j["client"] for j in acme] == ["acme"]
    by_prefix = invoke(runner, "status", acme[0]["job_id"][:8], "--json")
    assert json.loads(by_prefix.stdout)["job_id"] == acme[0]["job_id"]
    assert len(json.loads(invoke(runner, "jobs", "--status", "completed", "--json").stdout)) == 2
    assert json.loads(invoke(runner, "jobs", "--status", "failed", "--json").stdout) == []
    bad = invoke(runner, "jobs", "--status", "done")
    assert bad.exit_code == 2 and "--status: 'done' is not one of 'pending'" in bad.stderr
    table = invoke(runner, "jobs")
    assert table.exit_code == 0 and "acme" in table.stdout


def test_clients_add_list_show(runner: CliRunner) -> None:
    assert invoke(runner, "clients", "add", "agency").exit_code == 0
    assert invoke(runner, "clients", "add", "brand", "--parent", "agency").exit_code == 0
    dup = invoke(runner, "clients", "add", "AGENCY", "--parent", "brand")
    assert dup.exit_code == 1 and "agency" in dup.stderr.lower()
    listing = invoke(runner, "clients", "list")
    assert "agency" in listing.stdout and "brand" in listing.stdout
    shown = invoke(runner, "clients", "show", "brand")
    assert shown.exit_code == 0 and "lineage: agency → brand" in shown.stdout


def test_prompt_shows_the_prompt_without_a_model(runner: CliRunner) -> None:
    result = invoke(runner, "prompt", "--topic", "Solar panels for offices", "-k", "solar",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert "Solar panels for offices" in body["prompt"]
    assert body["metadata"]["strategy_version"] == 1
    assert body["metadata"]["template_version"] == "builtin-1"
    assert body["metadata"]["refined"] is False


def test_models_explains_the_choice(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(runner, "models", "--json")
    assert json.loads(result.stdout)["model"] == "local/smollm2"
    monkeypatch.setenv("CONTENTGEN_MODEL", "openai/gpt-4o-mini")
    body = json.loads(invoke(runner, "models", "--json").stdout)
    assert body["model"] == "openai/gpt-4o-mini"
    assert "OPENAI_API_KEY" in body["reason"]  # shown, with the key it still needs
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-1234567")
    body = json.loads(invoke(runner, "models", "--json").stdout)
    assert body["model"] == "openai/gpt-4o-mini"
    assert "CONTENTGEN_MODEL" in body["reason"]
    assert body["settings"]["CONTENTGEN_MODEL"] == "openai/gpt-4o-mini"
