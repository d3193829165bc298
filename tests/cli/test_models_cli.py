"""`contentgen models`: the catalogue, what is set, and the route of each priority (issue 10,
acceptance 5; issue 7, points 3 and 16)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contentgen.cli.app import app

CATALOGUE = """
[endpoints.c]
api_base = "http://127.0.0.1:9/v1"
key_env = "C_KEY"

[models."c/cheap"]
endpoint = "c"
tier = 2
price_in = 0.1
price_out = 0.1

[models."c/fast"]
endpoint = "c"
tier = 3
price_in = 1
price_out = 2

[models."c/best"]
endpoint = "c"
tier = 5
price_in = 10
price_out = 30
"""
EXPECTED = {
    "cost": ["c/cheap", "c/fast", "c/best"],
    "quality": ["c/best", "c/fast", "c/cheap"],
    "speed": ["c/fast", "c/cheap", "c/best"],  # by the observed p50 below
    # score = tier - 2 * price / top price - p50 / top p50:
    # fast 3 - 0.15 - 0.05 = 2.8; best 5 - 2 - 1 = 2.0; cheap 2 - 0.01 - 0.45 = 1.54
    "balanced": ["c/fast", "c/best", "c/cheap"],
}


@pytest.fixture
def catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_env: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE)
    monkeypatch.setenv("CONTENTGEN_CATALOGUE", str(path))
    monkeypatch.setenv("C_KEY", "c-secret-value")
    _isolated_env.mkdir(parents=True, exist_ok=True)
    latency = {"c/fast": [100, 120], "c/cheap": [900], "c/best": [2000]}
    (_isolated_env / "latency.json").write_text(json.dumps(latency))


def models(*args: str) -> Any:
    result = CliRunner().invoke(app, ["models", *args])
    return result


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("priority", list(EXPECTED))
def test_route_per_priority(priority: str) -> None:
    result = models("--priority", priority, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["routes"][priority]["models"] == EXPECTED[priority]
    assert body["model"] == EXPECTED[priority][0]
    assert list(body["routes"]) == [priority]


@pytest.mark.usefixtures("catalogue")
def test_table_shows_prices_tier_p50_breaker_and_keys() -> None:
    body = json.loads(models("--json").stdout)
    rows = {r["model"]: r for r in body["models"]}
    fast = rows["c/fast"]
    assert (fast["price_in_per_1m"], fast["price_out_per_1m"], fast["tier"]) == (1, 2, 3)
    assert fast["p50_ms"] == 110 and fast["breaker"] == "closed"
    assert fast["key_variable"] == "C_KEY" and fast["key_set"] and fast["usable"]
    assert rows["anthropic/claude-sonnet-4-5"]["usable"] is False
    assert "ANTHROPIC_API_KEY" in rows["anthropic/claude-sonnet-4-5"]["problem"]
    assert set(body["routes"]) == set(EXPECTED)
    text = models().stdout
    assert "cost: c/cheap -> c/fast -> c/best" in text
    assert "c-secret-value" not in text + json.dumps(body)


def test_bogus_priority_is_refused() -> None:
    result = models("--priority", "bogus")
    assert result.exit_code == 2
    assert "bogus" in result.output


def test_says_what_is_set_and_what_will_be_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from contentgen.testing import run_in_thread

    with run_in_thread(models=("served-by-you",)) as server:
        base = server.base_url
        monkeypatch.setenv("CONTENTGEN_API_BASE", base)
        body = json.loads(models("--json").stdout)
    assert body["settings"]["CONTENTGEN_API_BASE"] == base
    assert body["settings"]["CONTENTGEN_MODEL"] is None
    assert body["model"] == "openai/served-by-you"
    assert "CONTENTGEN_MODEL unset" in body["reason"]
