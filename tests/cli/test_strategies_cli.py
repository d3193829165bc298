"""`contentgen strategies set|show|list|history|activate` and `jobs --strategy-version`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from contentgen.client.local import Client

Cli = Callable[..., Result]

STRATEGY = """\
content_guidelines:
  min_words: 600
  max_words: 900
  required_sections: [Intro, Menu, Visit us]
  citation_required: true
seo_focus:
  primary_keywords: [wood-fired pizza, denver]
  keyword_density: 1.5
  meta_description_length: 155
tone:
  formality: casual
  voice: warm
  engagement: playful
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def acme(cli: Cli) -> str:
    cli("clients", "add", "acme")
    return "acme"


def test_set_from_yaml_then_json_makes_two_versions(cli: Cli, acme: str, tmp_path: Path) -> None:
    first = cli("strategies", "set", acme, str(write(tmp_path / "s.yaml", STRATEGY)))
    assert first.stdout.strip() == "strategy version 1 is active"
    v2 = yaml.safe_load(STRATEGY)
    v2["tone"]["formality"] = "formal"
    second = cli("strategies", "set", acme, str(write(tmp_path / "s.json", json.dumps(v2))))
    assert second.stdout.strip() == "strategy version 2 is active"
    shown = yaml.safe_load(cli("strategies", "show", acme).stdout)
    assert shown == {"name": "default", "version": 2, "active": True, "config": v2}
    old = json.loads(cli("strategies", "show", acme, "--version", "1", "--json").stdout)
    assert old["config"] == yaml.safe_load(STRATEGY) and old["active"] is False
    history = json.loads(cli("strategies", "history", acme, "--json").stdout)
    assert [(h["version"], h["action"]) for h in history] == [(1, "created"), (2, "created")]
    assert history[1]["changes"] == ["tone.formality: 'casual' -> 'formal'"]
    table = cli("strategies", "history", acme).stdout
    assert "tone.formality: 'casual' ->" in table and "created" in table


def test_the_same_file_twice_creates_no_version(cli: Cli, acme: str, tmp_path: Path) -> None:
    path = str(write(tmp_path / "s.yaml", STRATEGY))
    cli("strategies", "set", acme, path)
    assert cli("strategies", "set", acme, path).stdout.startswith("unchanged: strategy version 1")
    assert len(json.loads(cli("strategies", "history", acme, "--json").stdout)) == 1


def test_show_output_can_be_set_back(cli: Cli, acme: str, tmp_path: Path) -> None:
    cli("strategies", "set", acme, str(write(tmp_path / "s.yaml", STRATEGY)), "--name", "spring")
    shown = cli("strategies", "show", acme).stdout
    cli("strategies", "set", acme, "--voice", "bold")
    assert yaml.safe_load(cli("strategies", "show", acme).stdout)["name"] == "spring"
    back = cli("strategies", "set", acme, str(write(tmp_path / "shown.yaml", shown)))
    assert back.stdout.strip() == "strategy version 3 is active"
    assert yaml.safe_load(cli("strategies", "show", acme).stdout)["config"]["tone"]["voice"] == (
        "warm"
    )


def test_flags_change_single_fields_of_the_active_version(
    cli: Cli, acme: str, tmp_path: Path
) -> None:
    cli("strategies", "set", acme, str(write(tmp_path / "s.yaml", STRATEGY)))
    cli("strategies", "set", acme, "--min-words", "700", "--keywords", "pizza, oven",
        "--no-citation", "--voice", "bold")  # fmt: skip
    config = json.loads(cli("strategies", "show", acme, "--json").stdout)["config"]
    expected = yaml.safe_load(STRATEGY)
    expected["content_guidelines"].update(min_words=700, citation_required=False)
    expected["seo_focus"]["primary_keywords"] = ["pizza", "oven"]
    expected["tone"]["voice"] = "bold"
    assert config == expected
    # flags on top of a file
    cli("strategies", "set", acme, str(write(tmp_path / "s.yaml", STRATEGY)), "--density", "2")
    config = json.loads(cli("strategies", "show", acme, "--json").stdout)["config"]
    assert config["seo_focus"]["keyword_density"] == 2.0 and config["tone"]["voice"] == "warm"


def test_list_and_activate(cli: Cli, acme: str) -> None:
    cli("strategies", "set", acme, "--formality", "formal")
    cli("strategies", "set", acme, "--formality", "casual")
    assert cli("strategies", "activate", acme, "1").stdout.strip() == "strategy version 1 is active"
    shown = json.loads(cli("strategies", "show", acme, "--json").stdout)
    assert (shown["version"], shown["config"]["tone"]["formality"]) == (1, "formal")
    listing = cli("strategies", "list", acme).stdout
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in listing.splitlines()]
    assert [r[:3] for r in rows if r] == [["1", "default", "yes"], ["2", "default", ""]]
    history = json.loads(cli("strategies", "history", acme, "--json").stdout)
    assert history[-1]["action"] == "activated" and history[-1]["version"] == 1
    prompt = json.loads(cli("prompt", "--topic", "Pizza ovens at home", "-c", acme,
                            "--json").stdout)  # fmt: skip
    assert "Tone: formal." in prompt["prompt"] and prompt["metadata"]["strategy_version"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tone:\n  colour: red\n", "error: tone.colour: unknown field (allowed here: formality"),
        ("content_guidelines:\n  min_words: lots\n",
         "error: content_guidelines.min_words: expected an integer, got 'lots'"),
        ("seo_focus:\n  keyword_density: [1]\n", "error: seo_focus.keyword_density: expected a "
         "number"),
        ("tone: [unclosed\n", "not valid YAML"),
        ("- a list\n", "expected a YAML mapping"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_with_the_field_and_nothing_changes(
    cli: Cli, acme: str, tmp_path: Path, text: str, message: str
) -> None:
    cli("strategies", "set", acme, "--formality", "formal")
    result = cli("strategies", "set", acme, str(write(tmp_path / "bad.yaml", text)), code=2)
    assert message in result.stderr
    assert len(json.loads(cli("strategies", "history", acme, "--json").stdout)) == 1


def test_other_errors_are_one_line(cli: Cli, acme: str, tmp_path: Path) -> None:
    assert "give a strategy FILE" in cli("strategies", "set", acme, code=2).stderr
    assert "does not exist" in cli("strategies", "set", acme, "nope.yaml", code=2).stderr
    bad_json = write(tmp_path / "bad.json", '{"tone": ')
    assert "line 1: not valid JSON" in cli("strategies", "set", acme, str(bad_json),
                                           code=2).stderr  # fmt: skip
    assert "has no strategy of its own" in cli("strategies", "show", acme, code=1).stderr
    cli("strategies", "set", acme, "--voice", "warm")
    assert "no version 5 (versions: 1)" in cli("strategies", "activate", acme, "5",
                                                code=1).stderr  # fmt: skip
    assert "no version 5" in cli("strategies", "show", acme, "-v", "5", code=1).stderr
    assert "no client named" in cli("strategies", "history", "ghost", code=1).stderr
    assert "greater than or equal to 1" in cli("strategies", "set", acme, "--min-words", "0",
                                               code=2).stderr  # fmt: skip


def test_jobs_filter_on_the_strategy_and_template_versions_they_used(
    cli: Cli, acme: str, lib: Callable[..., Any], tmp_path: Path
) -> None:
    cli("clients", "add", "acme-denver", "--parent", acme)
    cli("strategies", "set", acme, "--voice", "warm")
    cli("strategies", "set", "acme-denver", "--keywords", "denver pizza")

    async def write_one(cg: Client) -> str:
        job = await cg.generate(client="acme-denver", topic="Pizza ovens at home",
                                content_type="blog")  # fmt: skip
        return str(job.id)

    old = lib(write_one)
    cli("strategies", "set", "acme-denver", "--keywords", "deep dish")
    cli("templates", "set", acme, "blog", str(write(tmp_path / "t.j2", "Post: {{ topic }}")))
    new = lib(write_one)

    def ids(*args: str) -> list[str]:
        out = cli("jobs", "--client", "acme-denver", "--json", *args).stdout
        return [j["job_id"] for j in json.loads(out)]

    assert ids() == [new, old]
    assert ids("--strategy-version", "1") == [old]
    assert ids("--strategy-version", "2") == [new]
    assert ids("--template-version", "builtin-1") == [old]
    assert ids("--template-version", "v1") == [new]
    status = json.loads(cli("status", new, "--json").stdout)
    assert (status["strategy_version"], status["template_version"]) == (2, "v1")
