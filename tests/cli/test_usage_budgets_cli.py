"""`contentgen usage` and `contentgen budgets` through the CLI, on jobs that retried and fell
back against the loopback fake provider (issue 10, acceptance 4: the report's totals are the
sums of ``llm_usage``; retries and fallbacks are rows of their own)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from contentgen.testing import FakeOpenAIServer, run_in_thread

Cli = Callable[..., Result]

TOPIC = "Solar panels for small offices"
CATALOGUE = {
    "models": {
        "openai/primary": {"price_in": 1.0, "price_out": 4.0, "tier": 3},
        "openai/backup": {"price_in": 0.5, "price_out": 2.0, "tier": 2},
    },
    "routes": {"balanced": ["openai/primary", "openai/backup"]},
}


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with run_in_thread() as started:
        monkeypatch.setenv("CONTENTGEN_API_BASE", started.base_url)
        monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
        monkeypatch.setenv("CONTENTGEN_LLM_RETRIES", "2")
        monkeypatch.setenv("CONTENTGEN_CATALOGUE", json.dumps(CATALOGUE))
        yield started


def db_sums(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "contentgen.db") as conn:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(error), SUM(input_tokens), SUM(output_tokens), "
            "SUM(cost_nanos) FROM llm_usage"
        ).fetchone()
        per_model = dict(conn.execute("SELECT model, COUNT(*) FROM llm_usage GROUP BY model"))
    return {"calls": row[0], "failed_calls": row[1], "input_tokens": row[2],
            "output_tokens": row[3], "cost_nanos": row[4], **per_model}  # fmt: skip


def test_usage_totals_are_the_sums_of_llm_usage(
    cli: Cli, provider: FakeOpenAIServer, _isolated_env: Path
) -> None:
    home = _isolated_env
    cli("clients", "add", "acme")
    cli("clients", "add", "bolt")
    provider.fail_model("primary", 500)  # every job: 2 failed attempts, then the fallback
    for client in ("acme", "acme", "bolt"):
        cli("generate", "--topic", TOPIC, "--client", client, "--no-stream")
    provider.clear_faults()
    provider.fail_next(1, 429, retry_after=0)  # one retry on the primary, then it succeeds
    cli("generate", "--topic", TOPIC, "--client", "bolt", "--no-stream")

    sums = db_sums(home)
    assert sums["openai/primary"] == 3 * 2 + 2 and sums["openai/backup"] == 3
    assert sums["calls"] == 11 and sums["failed_calls"] == 7

    for by in ("client", "model", "day"):
        report = json.loads(cli("usage", "--by", by, "--json").stdout)
        total = report["total"]
        assert total["calls"] == sums["calls"]
        assert total["failed_calls"] == sums["failed_calls"]
        assert total["input_tokens"] == sums["input_tokens"]
        assert total["output_tokens"] == sums["output_tokens"]
        assert round(total["cost"] * 1e9) == sums["cost_nanos"]
        assert total["pieces"] == 4 and total["failures"] == 0
        # every attempt after a failed one: 3 x (retry + fallback) + the 429's retry
        assert total["retries"] == 7
        assert sum(line["calls"] for line in report["lines"]) == sums["calls"]
    by_model = json.loads(cli("usage", "--by", "model", "--json").stdout)
    lines = {line["model"]: line for line in by_model["lines"]}
    assert lines["openai/backup"]["pieces"] == 3 and lines["openai/primary"]["pieces"] == 1
    assert lines["openai/primary"]["failed_calls"] == 7
    by_client = json.loads(cli("usage", "--json").stdout)
    assert [line["client"] for line in by_client["lines"]] == ["acme", "bolt"]
    only = json.loads(cli("usage", "--client", "acme", "--json").stdout)
    assert only["total"]["pieces"] == 2 and only["total"]["calls"] == 6

    rows = list(csv.reader(io.StringIO(cli("usage", "--by", "model", "--csv").stdout)))
    assert rows[0][0] == "model" and rows[-1][0] == "total" and int(rows[-1][3]) == 11
    table = cli("usage", "--by", "model", env={"COLUMNS": "120"}).stdout
    assert "openai/backup" in table and "total" in table

    future = json.loads(cli("usage", "--since", "2999-01", "--json").stdout)
    assert future["total"]["calls"] == 0 and future["lines"] == []
    cli("usage", "--since", "yesterday", code=2)
    cli("usage", "--csv", "--json", code=2)


def test_budgets_commands(cli: Cli, provider: FakeOpenAIServer, tmp_path: Path) -> None:
    cli("clients", "add", "agency")
    cli("clients", "add", "brand", "--parent", "agency")
    shown = cli("budgets", "set", "agency", "0.000001").stdout
    assert "agency: $0.000001 a month (own)" in shown
    body = json.loads(cli("budgets", "show", "brand", "--json").stdout)
    assert body["budget"] == 0.000001 and body["source"] == "agency" and body["inherited"]
    assert body["headroom"] == 0.000001 and body["spent"] == 0.0

    rows = tmp_path / "rows.csv"
    rows.write_text(f"topic,content_type,client\n{TOPIC},blog,brand\n{TOPIC},blog,agency\n")
    dry = json.loads(cli("batch", str(rows), "--dry-run", "--json").stdout)
    headroom = {b["client"]: b for b in dry["budgets"]}
    assert headroom["brand"]["headroom"] == 0.000001 and headroom["brand"]["fits"] is False
    assert headroom["brand"]["estimate"] > 0 and headroom["brand"]["source"] == "agency"
    table = cli("batch", str(rows), "--dry-run", env={"COLUMNS": "120"}).stdout
    assert "budgets (" in table and "headroom" in table

    failed = cli("generate", "--topic", TOPIC, "--client", "brand", "--json", code=1)
    error = json.loads(failed.stdout)
    assert "failed: budget exceeded" in error["error"] and error["job_id"]
    assert provider.requests == 0  # refused before the provider was called

    listed = json.loads(cli("budgets", "list", "--json").stdout)
    mine = {b["client"]: (b["budget"], b["source"]) for b in listed}
    assert mine["agency"] == mine["brand"] == (0.000001, "agency")
    assert "inherited from agency" in cli("budgets", "show", "brand").stdout
    assert "brand" in cli("budgets", "list").stdout
    cli("budgets", "set", "brand", "5")
    cli("generate", "--topic", TOPIC, "--client", "brand", "--no-stream")
    assert provider.requests == 1
    after = json.loads(cli("budgets", "show", "brand", "--json").stdout)
    assert after["source"] == "brand" and 0 < after["spent"] < 5
    assert after["headroom"] == pytest.approx(5 - after["spent"])
    removed = json.loads(cli("budgets", "remove", "brand", "--json").stdout)
    assert removed["source"] == "agency"
    cli("budgets", "set", "brand", "-3", code=2)
    cli("budgets", "set", "nobody", "3", code=1)
