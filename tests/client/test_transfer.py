"""Export / import of client setups through the library (memory and sqlite+disk backends)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from contentgen.client.local import Client
from contentgen.client.transfer import dump_yaml, export_setup, import_setup, load_yaml
from contentgen.errors import Conflict, InvalidInput

TOPIC = "Best pizza in Denver"
MakeClient = Callable[[str], Client]
Snapshot = Callable[[Client, str], Awaitable[tuple[object, ...]]]


@pytest.fixture
async def cg(make_cg: MakeClient) -> AsyncIterator[Client]:
    async with make_cg("main") as client:
        yield client


async def build_tree(cg: Client) -> None:
    await cg.add_client("agency")
    await cg.add_client("brand", parent="agency")
    await cg.add_client("location", parent="brand")
    agency = {"tone": {"formality": "formal", "voice": "expert"},
              "content_guidelines": {"citation_required": True}}  # fmt: skip
    await cg.set_strategy("agency", agency)
    await cg.set_strategy("brand", {"seo_focus": {"primary_keywords": ["pizza", "oven"]}},
                          name="brand-2025")  # fmt: skip
    await cg.set_strategy("location", {"content_guidelines": {"min_words": 900}})
    await cg.set_seo_rule("agency", "title", "Titles under 60 characters")
    await cg.set_seo_rule("location", "city", "Name the city in the first paragraph")
    await cg.set_preference("brand", "avoid", "jargon")
    await cg.set_template("agency", "blog", "Write about {{ topic }}.\n{% for r in seo_rules %}"
                          "- {{ r }}\n{% endfor %}Tone: {{ tone.voice }}\n")  # fmt: skip


def same_setup(a: Any, b: Any) -> None:
    assert a.config == b.config and a.origins == b.origins
    assert a.seo_rules == b.seo_rules and a.preferences == b.preferences
    assert {t: x.body for t, x in a.templates.items()} == {
        t: x.body for t, x in b.templates.items()
    }
    assert a.template_origins == b.template_origins
    assert [c.name for c in a.chain] == [c.name for c in b.chain]


async def test_export_import_round_trip_into_an_empty_database(
    cg: Client, make_cg: MakeClient, snapshot: Snapshot
) -> None:
    await build_tree(cg)
    text = dump_yaml(await export_setup(cg, "location"))  # brings its parents along
    data = load_yaml(text)
    assert [c["name"] for c in data["clients"]] == ["agency", "brand", "location"]
    assert data["clients"][1]["strategy"] == {
        "name": "brand-2025", "config": {"seo_focus": {"primary_keywords": ["pizza", "oven"]}},
    }  # fmt: skip
    async with make_cg("fresh") as fresh:
        report = await import_setup(fresh, load_yaml(text))
        assert "location: client created under brand" in report
        for name in ("agency", "brand", "location"):
            same_setup(await cg.effective_setup(name), await fresh.effective_setup(name))
        original = await cg.prompt("location", topic=TOPIC, content_type="blog")
        copy = await fresh.prompt("location", topic=TOPIC, content_type="blog")
        assert copy.prompt == original.prompt
        before = [await snapshot(fresh, n) for n in ("agency", "brand", "location")]
        # the same file again: nothing changes, no new version
        assert await import_setup(fresh, load_yaml(text)) == [
            "agency: unchanged", "brand: unchanged", "location: unchanged",
        ]  # fmt: skip
        assert [await snapshot(fresh, n) for n in ("agency", "brand", "location")] == before
        # and exporting the copy gives the same document
        assert dump_yaml(await export_setup(fresh, "location")) == text


async def test_export_with_children_or_without_parents(cg: Client) -> None:
    await build_tree(cg)
    tree = await export_setup(cg, "agency", children=True)
    assert [c["name"] for c in tree["clients"]] == ["agency", "brand", "location"]
    alone = await export_setup(cg, "brand", parents=False)
    assert [(c["name"], c["parent"]) for c in alone["clients"]] == [("brand", "agency")]


async def test_import_of_a_changed_file_updates_only_what_changed(cg: Client) -> None:
    await build_tree(cg)
    data = await export_setup(cg, "location")
    data["clients"][0]["strategy"]["config"]["tone"]["voice"] = "witty"
    data["clients"][2]["seo_rules"] = {}  # the location's own rule is dropped
    data["clients"][1]["preferences"]["length"] = "short paragraphs"
    report = await import_setup(cg, load_yaml(dump_yaml(data)))
    assert report == [
        "agency: strategy version 2 is active",
        "brand: preference 'length' set",
        "location: seo rule 'city' removed",
    ]
    setup = await cg.effective_setup("location")
    assert setup.config.tone.voice == "witty" and "city" not in setup.seo_rules
    assert (await cg.get_strategy("brand")).version == 1


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"contentgen": 2, "clients": []}, "contentgen: unsupported format 2"),
        ({"clients": []}, "clients: expected a non-empty list"),
        ({"clients": [{"name": "new", "colour": "red"}]}, "clients[0] (new).colour: unknown key"),
        ({"clients": [{"name": "new", "strategy": {"config": {"tone": {"colour": "red"}}}}]},
         "clients[0] (new): strategy.config.tone.colour: unknown field"),
        ({"clients": [{"name": "new", "strategy": {"config": {
            "content_guidelines": {"min_words": "many"}}}}]},
         "strategy.config.content_guidelines.min_words: expected an integer"),
        ({"clients": [{"name": "new", "templates": {"blog": "ok\n{{ nope }}"}}]},
         "clients[0] (new).templates.blog: template: line 2: unknown variable 'nope'"),
        ({"clients": [{"name": "new", "templates": {"video": "x"}}]},
         "templates.video: not a content type"),
        ({"clients": [{"name": "new", "parent": "ghost"}]}, "parent: no client 'ghost'"),
        ({"clients": [{"name": "new"}, {"name": "NEW"}]}, "'NEW' appears twice"),
        ({"clients": [{"name": "new", "seo_rules": ["a"]}]}, "seo_rules: expected a mapping"),
        ({"clients": [{"name": "location", "parent": None}]}, "exists under 'brand'"),
    ],
)  # fmt: skip
async def test_a_bad_import_file_changes_nothing(
    cg: Client, snapshot: Snapshot, doc: dict[str, Any], message: str
) -> None:
    await build_tree(cg)
    doc = copy.deepcopy(doc)
    # a good client first: a refusal further down must not leave it half-imported
    if doc.get("clients"):
        doc["clients"].insert(0, {"name": "agency", "seo_rules": {}})
        message = message.replace("clients[0]", "clients[1]")
    before = [await snapshot(cg, n) for n in ("agency", "brand", "location")]
    with pytest.raises((InvalidInput, Conflict)) as info:
        await import_setup(cg, doc)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert [c.name for c in await cg.list_clients()] == ["agency", "brand", "location"]
    assert [await snapshot(cg, n) for n in ("agency", "brand", "location")] == before


def test_yaml_syntax_errors_are_one_line_with_the_line_number() -> None:
    with pytest.raises(InvalidInput) as info:
        load_yaml("contentgen: 1\nclients:\n  - name: [unclosed\n", "setup.yaml")
    assert str(info.value).startswith("setup.yaml: line ")
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidInput, match="expected a YAML mapping"):
        load_yaml("- just\n- a list\n")
