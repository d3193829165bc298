"""Issue 7, point 21: `contentgen settings [--json]` prints the effective settings with the
origin of each value; secrets are masked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

Cli = Callable[..., Result]


def test_settings_lists_every_value_and_its_origin(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "contentgen.toml").write_text("llm_retries = 5\n")
    env = {"CONTENTGEN_API_KEY": "sk-not-to-be-seen", "CONTENTGEN_CONCURRENCY": "6",
           "COLUMNS": "200"}  # fmt: skip
    rows = {r["env"]: r for r in json.loads(cli("settings", "--json", env=env).stdout)}
    assert rows["CONTENTGEN_CONCURRENCY"] == {"name": "concurrency", "env":
                                              "CONTENTGEN_CONCURRENCY", "value": 6,
                                              "origin": "environment"}  # fmt: skip
    assert rows["CONTENTGEN_LLM_RETRIES"]["origin"] == "contentgen.toml"
    assert rows["CONTENTGEN_API_KEY"]["value"] == "***"
    assert rows["CONTENTGEN_LOG_LEVEL"] == {"name": "log_level", "env": "CONTENTGEN_LOG_LEVEL",
                                            "value": "WARNING", "origin": "default"}  # fmt: skip
    table = cli("settings", env=env).stdout
    assert "sk-not-to-be-seen" not in table
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert lines["CONTENTGEN_CONCURRENCY"][1:] == ["6", "environment"]
    assert lines["CONTENTGEN_LLM_RETRIES"][1:] == ["5", "contentgen.toml"]
    assert lines["CONTENTGEN_API_KEY"][1:] == ["***", "environment"]


def test_unknown_contentgen_variables_are_pointed_out(cli: Cli) -> None:
    result = cli("settings", env={"CONTENTGEN_MODLE": "openai/gpt-4o-mini"})
    assert "ignored (no such setting): CONTENTGEN_MODLE" in result.stderr
