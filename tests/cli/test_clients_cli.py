"""`contentgen clients add|list|show|rename|remove|export|import`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import Result

from contentgen.client.local import Client

Cli = Callable[..., Result]


def make_tree(cli: Cli) -> None:
    cli("clients", "add", "agency")
    cli("clients", "add", "brand", "--parent", "agency")
    cli("clients", "add", "location", "-p", "brand")
    cli("strategies", "set", "agency", "--formality", "formal", "--voice", "expert")
    cli("strategies", "set", "brand", "--keywords", "pizza, oven")
    cli("strategies", "set", "location", "--min-words", "900")
    cli("rules", "set", "agency", "title", "Titles under 60 characters")
    cli("prefs", "set", "brand", "avoid", "jargon")


def test_add_and_list_as_a_tree(cli: Cli) -> None:
    make_tree(cli)
    cli("clients", "add", "other")
    added = cli("clients", "add", "kiosk", "--parent", "location")
    assert added.stdout.startswith("added client kiosk (")
    listing = cli("clients", "list").stdout
    lines = [line for line in listing.splitlines() if line.strip()]
    names = [line.split()[-2] for line in lines[1:]]
    assert names == ["agency", "brand", "location", "kiosk", "other"]
    indent = {line.split()[-2]: line.index(line.split()[-2]) for line in lines[1:]}
    assert indent["agency"] < indent["brand"] < indent["location"] < indent["kiosk"]
    assert indent["other"] == indent["agency"]
    rows = json.loads(cli("clients", "list", "--json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["brand"]["parent_id"] == by_name["agency"]["id"]


def test_show_names_the_origin_of_every_effective_field(cli: Cli) -> None:
    make_tree(cli)
    shown = cli("clients", "show", "location").stdout
    assert "lineage: agency → brand → location" in shown
    assert "strategy: v1 of location" in shown
    assert "content_guidelines.min_words: 900  (own)" in shown
    assert 'seo_focus.primary_keywords: ["pizza", "oven"]  (inherited from brand)' in shown
    assert 'tone.formality: "formal"  (inherited from agency)' in shown
    assert "title: Titles under 60 characters  (inherited from agency)" in shown
    assert "avoid: jargon  (inherited from brand)" in shown
    assert "templates:\n  blog: built-in\n  social: built-in\n  local: built-in" in shown
    data = json.loads(cli("clients", "show", "location", "--json").stdout)
    assert data["origins"]["tone.voice"] == "agency"
    assert data["config"]["content_guidelines"]["min_words"] == 900


def test_show_by_uuid_and_rename(cli: Cli) -> None:
    cli("clients", "add", "acme")
    client_id = json.loads(cli("clients", "list", "--json").stdout)[0]["id"]
    assert cli("clients", "show", client_id).stdout.startswith(f"acme ({client_id})")
    assert cli("clients", "rename", client_id, "acme-2").stdout.strip() == "renamed to acme-2"
    assert cli("clients", "show", "acme-2").stdout.startswith(f"acme-2 ({client_id})")
    result = cli("clients", "show", "acme", code=1)
    assert "no client named or with id 'acme'" in result.stderr


def test_adding_an_existing_client_under_the_same_parent_is_a_no_op(cli: Cli) -> None:
    first = cli("clients", "add", "acme").stdout
    again = cli("clients", "add", "ACME")
    assert "already exists" in again.stdout and "unchanged" in again.stdout
    assert first.split("(")[1].rstrip(")\n") in again.stdout  # the same id
    assert json.loads(cli("clients", "add", "acme", "--json").stdout)["created"] is False
    cli("clients", "add", "brand", "--parent", "acme")
    assert "unchanged" in cli("clients", "add", "brand", "-p", "acme").stdout
    assert len(json.loads(cli("clients", "list", "--json").stdout)) == 2


def test_add_errors(cli: Cli) -> None:
    cli("clients", "add", "acme")
    cli("clients", "add", "other")
    moved = cli("clients", "add", "acme", "--parent", "other", code=1).stderr
    assert "already exists at the top level" in moved and "moving clients" in moved
    assert "no client named" in cli("clients", "add", "x", "--parent", "ghost", code=1).stderr
    assert "1..200 characters" in cli("clients", "add", " ", code=2).stderr


def test_remove_is_refused_with_children_or_jobs_unless_forced(
    cli: Cli, lib: Callable[..., Any]
) -> None:
    make_tree(cli)

    async def write(cg: Client) -> None:
        await cg.generate(client="location", topic="Pizza ovens at home", content_type="blog")

    lib(write)
    refused = cli("clients", "remove", "brand", code=1)
    assert "has 1 descendant client(s)" in refused.stderr and "--force" in refused.stderr
    assert "1 job(s)" in cli("clients", "remove", "location", code=1).stderr
    removed = cli("clients", "remove", "brand", "--force").stdout.splitlines()
    assert removed == [
        "location: removed with 1 job(s) and its setup",
        "brand: removed with 0 job(s) and its setup",
    ]
    assert [r["name"] for r in json.loads(cli("clients", "list", "--json").stdout)] == ["agency"]
    assert cli("clients", "remove", "agency").stdout.startswith("agency: removed")
    assert "no clients yet" in cli("clients", "list").stdout


def test_export_and_import_into_an_empty_database(
    cli: Cli, tmp_path: Path, monkeypatch: Any
) -> None:
    make_tree(cli)
    cli("templates", "set", "agency", "blog", str(write(tmp_path / "t.j2", TEMPLATE)))
    exported = cli("clients", "export", "location").stdout
    data = yaml.safe_load(exported)
    assert [c["name"] for c in data["clients"]] == ["agency", "brand", "location"]
    assert data["clients"][0]["templates"]["blog"] == TEMPLATE
    assert "blog: |" in exported  # multi-line templates stay readable
    shown = cli("clients", "show", "location", "--json").stdout
    out_file = tmp_path / "setup.yaml"
    cli("clients", "export", "location", "--out", str(out_file))
    assert out_file.read_text() == exported

    monkeypatch.setenv("CONTENTGEN_HOME", str(tmp_path / "fresh"))  # an empty database
    assert cli("clients", "list", "--json").stdout.strip() == "[]"
    report = cli("clients", "import", str(out_file)).stdout.splitlines()
    assert report[:2] == ["agency: client created", "agency: strategy version 1 is active"]
    assert "location: client created under brand" in report
    copy = json.loads(cli("clients", "show", "location", "--json").stdout)
    original = json.loads(shown)
    for key in ("config", "origins", "seo_rules", "preferences", "template_origins"):
        assert copy[key] == original[key], key
    assert cli("clients", "import", str(out_file)).stdout.splitlines() == [
        "agency: unchanged", "brand: unchanged", "location: unchanged",
    ]  # fmt: skip
    history = json.loads(cli("strategies", "history", "agency", "--json").stdout)
    assert [h["version"] for h in history] == [1]


def test_import_errors_are_one_line_and_change_nothing(cli: Cli, tmp_path: Path) -> None:
    make_tree(cli)
    before = cli("clients", "show", "location", "--json").stdout
    bad_field = write(tmp_path / "a.yaml", """\
contentgen: 1
clients:
  - name: agency
    seo_rules: {}
  - name: brand
    parent: agency
    strategy:
      config:
        tone: {colour: red}
""")
    result = cli("clients", "import", str(bad_field), code=2)
    assert "clients[1] (brand): strategy.config.tone.colour: unknown field" in result.stderr
    bad_yaml = write(tmp_path / "b.yaml", "clients:\n  - name: [oops\n")
    assert f"{bad_yaml}: line " in cli("clients", "import", str(bad_yaml), code=2).stderr
    moved = write(tmp_path / "c.yaml", "clients:\n  - name: location\n    parent: agency\n")
    assert "exists under 'brand'" in cli("clients", "import", str(moved), code=1).stderr
    assert "does not exist" in cli("clients", "import", str(tmp_path / "nope.yaml"),
                                   code=2).stderr  # fmt: skip
    assert cli("clients", "show", "location", "--json").stdout == before


TEMPLATE = "Write about {{ topic }}.\n{% for r in seo_rules %}- {{ r }}\n{% endfor %}"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
