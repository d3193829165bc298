"""`contentgen keys`: a key stored in the data dir (0600), read like the environment variables
(the environment wins), listed by name and origin only, removed; the router uses it and masks
it out of errors."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from contentgen.errors import InvalidInput
from contentgen.llm.keys import read_keys, variable_for
from contentgen.llm.router import Router
from contentgen.settings import Settings

Cli = Callable[..., Result]
KEY = "sk-ant-stored-key-424242"


def test_set_list_remove(cli: Cli, _isolated_env: Path) -> None:
    home = _isolated_env
    said = cli("keys", "set", "anthropic", input=KEY + "\n").stdout
    assert "ANTHROPIC_API_KEY" in said and KEY not in said
    path = home / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_keys(home) == {"ANTHROPIC_API_KEY": KEY}

    listed = cli("keys", "list", "--json").stdout
    assert KEY not in listed
    rows = {r["variable"]: r for r in json.loads(listed)}
    assert rows["ANTHROPIC_API_KEY"] == {"provider": "anthropic", "variable": "ANTHROPIC_API_KEY",
                                         "set": True, "source": "keys file"}  # fmt: skip
    assert rows["OPENAI_API_KEY"]["set"] is False
    shadowed = cli("keys", "list", "--json", env={"ANTHROPIC_API_KEY": "from-env-123"}).stdout
    source = {r["variable"]: r["source"] for r in json.loads(shadowed)}["ANTHROPIC_API_KEY"]
    assert source == "environment (overrides the stored key)"
    assert KEY not in cli("keys", "list").stdout

    assert json.loads(cli("keys", "remove", "anthropic", "--json").stdout)["removed"] is True
    assert read_keys(home) == {}
    assert json.loads(cli("keys", "remove", "anthropic", "--json").stdout)["removed"] is False


def test_bad_input_is_refused(cli: Cli) -> None:
    cli("keys", "set", "anthropic", input="\n", code=2)
    cli("keys", "set", "anthropic", input="two words\n", code=2)
    cli("keys", "set", "not a provider", input="sk-x\n", code=2)
    with pytest.raises(InvalidInput):
        variable_for("CONTENTGEN_API_KEY")
    assert variable_for("GPU_BOX_KEY") == "GPU_BOX_KEY"
    assert variable_for("gpu", {"gpu": "GPU_BOX_KEY"}) == "GPU_BOX_KEY"


async def test_the_router_reads_stored_keys_and_the_environment_wins(
    cli: Cli, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("keys", "set", "anthropic", input=KEY + "\n")
    settings = Settings(home=_isolated_env)
    async with Router(settings) as router:
        entry = router.catalogue.entry("anthropic/claude-sonnet-4-5")
        assert router.problem(entry.name) is None  # the stored key counts as set
        assert router.target(entry).key == KEY
        assert router.secrets.mask(f"echoed {KEY}") == "echoed ***"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-the-environment")
    async with Router(settings) as router:
        assert router.target(router.catalogue.entry("anthropic/claude-sonnet-4-5")).key == (
            "sk-from-the-environment"
        )
    cli("keys", "remove", "anthropic")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    async with Router(settings) as router:
        assert router.problem("anthropic/claude-sonnet-4-5") is not None
