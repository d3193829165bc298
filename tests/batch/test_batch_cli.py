"""`contentgen batch` through Typer's CliRunner (model fake/writer unless a test says otherwise;
CONTENTGEN_HOME is a fresh tmp dir per test, set in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml
from typer.testing import CliRunner, Result

from contentgen.batch.csv_input import Rejection
from contentgen.batch.estimate import prompt_tokens
from contentgen.batch.rows import ClientResolver, validated_rows
from contentgen.cli.app import app
from contentgen.client.local import Client
from contentgen.llm.pricing import price_per_token
from contentgen.production.writer import TOKENS_PER_WORD
from contentgen.settings import Settings
from contentgen.testing import run_in_thread

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "batch.csv"
EXAMPLE_CLIENTS = ("acme", "greenleaf")
EXAMPLE_ROWS = 10


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CONTENTGEN_MODEL", "fake/writer")
    yield
    structlog.reset_defaults()  # a command points structlog at the runner's stderr


def cg(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def add_example_clients() -> None:
    for name in EXAMPLE_CLIENTS:
        cg("clients", "add", name)


def jobs() -> list[dict[str, Any]]:
    return json.loads(cg("jobs", "--json", "--limit", "100").stdout)  # type: ignore[no-any-return]


def results(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_example_csv_runs_and_writes_files(tmp_path: Path) -> None:
    add_example_clients()
    result = cg("batch", str(EXAMPLE), "--out", "out", "--quiet")
    out = tmp_path / "out"
    pieces = sorted(out.glob("*.md"))
    assert len(pieces) == EXAMPLE_ROWS
    lines = results(out)
    assert len(lines) == EXAMPLE_ROWS and {r["status"] for r in lines} == {"completed"}
    assert {r["output_file"] for r in lines} == {p.name for p in pieces}
    assert not (out / "rejected.csv").exists()
    stored = {j["job_id"]: j for j in jobs()}
    assert set(stored) == {r["job_id"] for r in lines}
    clients = set()
    for line in lines:
        head = yaml.safe_load((out / line["output_file"]).read_text().split("---\n")[1])
        assert head["job_id"] == line["job_id"] and head["model"] == "fake/writer"
        assert head["word_count"] == int(line["words"]) > 0
        clients.add(head["client"])
    assert clients == {"default", *EXAMPLE_CLIENTS}
    assert f"{EXAMPLE_ROWS} done" in result.stderr


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        ("topic,content_type,colour", "colour", "unknown column"),
        ("topic,client,keywords", "content_type", "required column missing"),
    ],
)
def test_bad_columns_stop_before_any_job(
    tmp_path: Path, header: str, column: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{header}\nSolar panels for small offices,blog,red\n", encoding="utf-8")
    result = cg("batch", str(path), "--out", "out", code=2)
    assert f"'{column}'" in result.stderr and message in result.stderr
    assert jobs() == []
    assert not (tmp_path / "out" / "results.csv").exists()


def test_existing_results_are_not_overwritten_without_resume(tmp_path: Path) -> None:
    add_example_clients()
    cg("batch", str(EXAMPLE), "--out", "out", "--quiet")
    before = (tmp_path / "out" / "results.csv").read_text()
    refused = cg("batch", str(EXAMPLE), "--out", "out", code=2)
    assert "results.csv" in refused.stderr and "--resume" in refused.stderr
    assert (tmp_path / "out" / "results.csv").read_text() == before
    assert len(jobs()) == EXAMPLE_ROWS
    resumed = cg("batch", str(EXAMPLE), "--out", "out", "--resume", "--json")
    summary = json_lines(resumed)[-1]
    assert summary["event"] == "summary" and summary["reused"] == EXAMPLE_ROWS
    assert len(jobs()) == EXAMPLE_ROWS  # nothing ran again


async def _expected_estimate(path: Path) -> tuple[int, int]:
    """Tokens of the example's rows as docs/batch.md defines them: ceil(prompt chars / 4) in,
    target words x 1.4 out."""
    tokens_in = tokens_out = 0
    async with Client.from_settings(Settings()) as client:
        async for item in validated_rows(path, ClientResolver(client)):
            assert not isinstance(item, Rejection)
            built = await client.instructions.build(item[1].prompt_request())
            tokens_in += prompt_tokens(built.prompt)
            tokens_out += int(built.plan.target_words * TOKENS_PER_WORD)
    return tokens_in, tokens_out


def test_dry_run_calls_no_model_and_costs_tokens_times_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = "openai/gpt-4o-mini"
    prices = price_per_token(model)
    assert prices is not None and prices[0] > 0
    with run_in_thread() as server:
        monkeypatch.setenv("CONTENTGEN_API_BASE", server.base_url)
        monkeypatch.setenv("CONTENTGEN_MODEL", model)
        add_example_clients()
        as_json = cg("batch", str(EXAMPLE), "--out", "out", "--dry-run", "--json")
        table = cg("batch", str(EXAMPLE), "--out", "out", "--dry-run")
        assert server.requests == 0
    [estimate] = json_lines(as_json)
    assert estimate["event"] == "estimate" and estimate["rejected"] == 0
    for row in estimate["rows"]:
        assert row["model"] == model and row["priced"]
        expected = row["input_tokens"] * prices[0] + row["output_tokens"] * prices[1]
        assert row["cost"] == pytest.approx(expected, rel=1e-9)
    total = estimate["total"]
    tokens_in, tokens_out = asyncio.run(_expected_estimate(EXAMPLE))
    assert (total["rows"], total["input_tokens"], total["output_tokens"]) == (
        EXAMPLE_ROWS, tokens_in, tokens_out
    )  # fmt: skip
    cost = tokens_in * prices[0] + tokens_out * prices[1]
    assert total["cost"] == pytest.approx(cost, rel=1e-9)
    assert f"${cost:.6f}" in table.stdout
    assert jobs() == [] and not (tmp_path / "out").exists()


def test_json_mode_is_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "topic,content_type,keywords\n"
        "Solar panels for small offices,blog,solar;roof\n"
        "abc,blog,\n"
        "Heat pumps in cold climates,social,heat pump|winter\n",
        encoding="utf-8",
    )
    result = cg("batch", str(path), "--out", "out", "--json", code=1)  # a row was rejected
    events = json_lines(result)  # every line of stdout is JSON
    assert [e["event"] for e in events] == ["rejected", "row", "row", "summary"]
    assert (events[0]["row"], events[0]["column"]) == (3, "topic")
    rows = sorted(events[1:3], key=lambda e: e["row"])
    assert [r["row"] for r in rows] == [2, 4] and {r["status"] for r in rows} == {"completed"}
    assert all(r["words"] > 0 and not r["reused"] for r in rows)
    summary = events[-1]
    assert (summary["done"], summary["failed"], summary["rejected"]) == (2, 0, 1)
    with (tmp_path / "out" / "rejected.csv").open() as handle:
        assert [r["row"] for r in csv.DictReader(handle)] == ["3"]


def test_format_json_writes_json_files(tmp_path: Path) -> None:
    add_example_clients()
    cg("batch", str(EXAMPLE), "--out", "out", "--format", "json", "--quiet")
    out = tmp_path / "out"
    files = sorted(out.glob("*.json"))
    assert len(files) == EXAMPLE_ROWS and not list(out.glob("*.md"))
    by_id = {r["job_id"]: r for r in results(out)}
    for path in files:
        body = json.loads(path.read_text())
        assert by_id[body["job_id"]]["output_file"] == path.name
        assert body["status"] == "completed" and body["result"]["content"].startswith("# ")
        assert body["client"] in {"default", *EXAMPLE_CLIENTS}
        assert body["result"]["metadata"]["model"] == "fake/writer"
