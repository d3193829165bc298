"""Client management through the library: versioned strategies, refusals that name the field,
templates, clients — on MemoryStorage+MemoryCache and SqliteStorage+DiskCache."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from contentgen.client.local import Client
from contentgen.errors import (
    ClientNotFound,
    Conflict,
    InvalidInput,
    StrategyNotFound,
    TemplateError,
)
from contentgen.llm.fake import FakeLLM
from contentgen.models import ContentType, JobFilter

TOPIC = "Best pizza in Denver"
V1 = {"tone": {"formality": "formal", "voice": "expert"}, "content_guidelines": {"min_words": 500}}
V2 = {"tone": {"formality": "casual", "voice": "expert"}, "seo_focus": {"keyword_density": 2.0}}

Snapshot = Callable[[Client, str], Awaitable[tuple[object, ...]]]


@pytest.fixture
async def cg(make_cg: Callable[[str], Client]) -> AsyncIterator[Client]:
    async with make_cg("main") as client:
        yield client


# versioning ---------------------------------------------------------------------------------
async def test_set_twice_keeps_both_versions_and_activate_rolls_back(cg: Client) -> None:
    await cg.add_client("acme")
    first = await cg.set_strategy("acme", V1)
    second = await cg.set_strategy("acme", V2)
    assert (first.version, second.version) == (1, 2)
    assert [(s.version, s.active) for s in await cg.list_strategies("acme")] == [
        (1, False), (2, True),
    ]  # fmt: skip
    history = await cg.strategy_history("acme")
    assert [(h.version, h.action) for h in history] == [(1, "created"), (2, "created")]
    assert "tone.formality set to 'formal'" in history[0].changes
    assert history[1].changes == [
        "content_guidelines.min_words unset (was 500)",
        "seo_focus.keyword_density set to 2.0",
        "tone.formality: 'formal' -> 'casual'",
    ]
    assert "Tone: casual, expert." in (await cg.prompt("acme", topic=TOPIC,
                                                       content_type="blog")).prompt  # fmt: skip

    restored = await cg.activate_strategy("acme", 1)
    assert restored.version == 1 and restored.config.tone.formality == "formal"
    assert (await cg.get_strategy("acme")).version == 1
    assert (await cg.get_strategy("acme", 2)).config.tone.formality == "casual"
    built = await cg.prompt("acme", topic=TOPIC, content_type="blog")
    assert "Tone: formal, expert." in built.prompt and "Length: 500 to" in built.prompt
    assert built.metadata.strategy_version == 1
    assert [(h.version, h.action) for h in await cg.strategy_history("acme")][-1] == (
        1, "activated",
    )  # fmt: skip
    # and forward again
    assert (await cg.activate_strategy("acme", 2)).version == 2
    forward = await cg.prompt("acme", topic=TOPIC, content_type="blog")
    assert forward.metadata.strategy_version == 2


async def test_an_unchanged_strategy_creates_no_version(cg: Client) -> None:
    await cg.add_client("acme")
    await cg.set_strategy("acme", V1)
    again = await cg.set_strategy("acme", {**V1, "seo_focus": {}})  # same fields set
    assert again.version == 1
    assert len(await cg.strategy_history("acme")) == 1
    assert (await cg.activate_strategy("acme", 1)).version == 1  # already active: no-op
    assert len(await cg.strategy_history("acme")) == 1


async def test_activating_a_missing_version_names_the_versions(cg: Client) -> None:
    await cg.add_client("acme")
    with pytest.raises(StrategyNotFound, match=r"no version 3 \(versions: none\)"):
        await cg.activate_strategy("acme", 3)
    await cg.set_strategy("acme", V1)
    await cg.set_strategy("acme", V2)
    with pytest.raises(StrategyNotFound, match=r"no version 3 \(versions: 1, 2\)"):
        await cg.activate_strategy("acme", 3)
    with pytest.raises(StrategyNotFound, match="no version 7"):
        await cg.get_strategy("acme", 7)


# refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({"tone": {"colour": "red"}}, "tone.colour", "unknown field (allowed here: formality"),
        ({"style": {}}, "style", "unknown field (allowed here: content_guidelines"),
        ({"content_guidelines": {"min_words": "lots"}}, "content_guidelines.min_words",
         "expected an integer, got 'lots'"),
        ({"content_guidelines": {"citation_required": "maybe"}},
         "content_guidelines.citation_required", "expected true or false"),
        ({"seo_focus": {"primary_keywords": "pizza"}}, "seo_focus.primary_keywords",
         "expected a list of strings"),
        ({"seo_focus": {"primary_keywords": ["ok", 3]}}, "seo_focus.primary_keywords[1]",
         "expected a string, got 3"),
        ({"seo_focus": {"keyword_density": "high"}}, "seo_focus.keyword_density",
         "expected a number"),
        ({"tone": "friendly"}, "tone", "expected a mapping"),
        ({"content_guidelines": {"min_words": 0}}, "content_guidelines.min_words",
         "greater than or equal to 1"),
    ],
)  # fmt: skip
async def test_a_bad_strategy_is_refused_naming_the_field_and_nothing_changes(
    cg: Client, snapshot: Snapshot, config: dict[str, Any], field: str, words: str
) -> None:
    await cg.add_client("acme")
    await cg.set_strategy("acme", V1)
    before = await snapshot(cg, "acme")
    with pytest.raises(InvalidInput) as info:
        await cg.set_strategy("acme", config)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert words in str(info.value) and "\n" not in str(info.value)
    assert await snapshot(cg, "acme") == before


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("About {{ topic }}\n{{ celebrity }}", 2, "unknown variable 'celebrity'"),
        ("About {{ topic }}\n\n{% if tone %}no end", 3, "endif"),
        ("About {{ topic }}\nTone: {{ tone.colour }}", 2, "colour"),
    ],
)
async def test_a_bad_template_is_refused_with_its_line_and_nothing_changes(
    cg: Client, snapshot: Snapshot, body: str, line: int, words: str
) -> None:
    await cg.add_client("acme")
    await cg.set_template("acme", "blog", "Good {{ topic }}")
    before = await snapshot(cg, "acme")
    with pytest.raises(TemplateError) as info:
        await cg.set_template("acme", "blog", body)
    assert info.value.line == line
    assert str(info.value).startswith(f"template: line {line}: ") and words in str(info.value)
    assert await snapshot(cg, "acme") == before


async def test_templates_are_versioned_per_content_type(cg: Client) -> None:
    await cg.add_client("acme")
    assert (await cg.set_template("acme", "blog", "One {{ topic }}")).version == 1
    assert (await cg.set_template("acme", "blog", "One {{ topic }}")).version == 1  # unchanged
    assert (await cg.set_template("acme", "blog", "Two {{ topic }}")).version == 2
    assert (await cg.set_template("acme", ContentType.SOCIAL, "S {{ topic }}")).version == 1
    built = await cg.prompt("acme", topic=TOPIC, content_type="blog")
    assert built.prompt == f"Two {TOPIC}\n" and built.metadata.template_version == "v2"
    with pytest.raises(InvalidInput, match="content_type: 'video' is not one of"):
        await cg.set_template("acme", "video", "x {{ topic }}")


async def test_rules_and_preferences_replace_by_name_and_refuse_empty(cg: Client) -> None:
    await cg.add_client("acme")
    await cg.set_seo_rule("acme", "title", "Under 60 characters")
    await cg.set_seo_rule("acme", "title", "Under 55 characters")
    await cg.set_preference("acme", "avoid", "jargon")
    await cg.set_preference("acme", "avoid", "slang")
    setup = await cg.effective_setup("acme")
    assert {k: v.value for k, v in setup.seo_rules.items()} == {"title": "Under 55 characters"}
    assert {k: v.value for k, v in setup.preferences.items()} == {"avoid": "slang"}
    with pytest.raises(InvalidInput, match=r"^rule: must not be empty"):
        await cg.set_seo_rule("acme", "title", "  ")
    with pytest.raises(InvalidInput, match=r"^key: must not be empty"):
        await cg.set_preference("acme", "", "x")
    assert not await cg.remove_seo_rule("acme", "nope")
    assert await cg.remove_preference("acme", "avoid")


# clients ------------------------------------------------------------------------------------
async def test_clients_by_name_or_uuid_rename_and_refusals(cg: Client) -> None:
    agency = await cg.add_client("agency")
    brand = await cg.add_client("brand", parent=str(agency.id))
    assert brand.parent_id == agency.id
    assert (await cg.resolve_client(str(brand.id))).name == "brand"
    assert (await cg.resolve_client("BRAND")).id == brand.id  # names are case-insensitive
    with pytest.raises(Conflict, match="already exists"):
        await cg.add_client("Agency")
    with pytest.raises(InvalidInput, match="must not look like a UUID"):
        await cg.add_client(str(agency.id))
    with pytest.raises(ClientNotFound, match=r"^client: no client named or with id 'nobody'"):
        await cg.add_client("x", parent="nobody")
    renamed = await cg.rename_client("brand", "brand-2")
    assert renamed.id == brand.id and (await cg.resolve_client("brand-2")).id == brand.id
    with pytest.raises(ClientNotFound):
        await cg.resolve_client("brand")


async def test_remove_is_refused_with_children_or_jobs_unless_forced(cg: Client) -> None:
    await cg.add_client("agency")
    await cg.add_client("brand", parent="agency")
    await cg.add_client("location", parent="brand")
    await cg.set_strategy("location", V1)
    await cg.generate(client="location", topic=TOPIC, content_type="blog")
    with pytest.raises(Conflict, match="has 2 descendant client"):
        await cg.remove_client("agency")
    with pytest.raises(Conflict, match="1 job"):
        await cg.remove_client("location")
    assert len(await cg.list_clients()) == 3
    report = await cg.remove_client("brand", force=True)
    assert report == [
        "location: removed with 1 job(s) and its setup",
        "brand: removed with 0 job(s) and its setup",
    ]
    assert [c.name for c in await cg.list_clients()] == ["agency"]
    assert await cg.jobs(JobFilter()) == []
    assert await cg.remove_client("agency") == ["agency: removed with 0 job(s) and its setup"]


# acceptance 3 -------------------------------------------------------------------------------
async def test_child_prompt_has_parent_tone_and_own_keywords_and_jobs_record_versions(
    cg: Client, fake: FakeLLM
) -> None:
    await cg.add_client("agency")
    await cg.add_client("pizzeria", parent="agency")
    await cg.set_strategy("agency", {"tone": {"formality": "warm", "voice": "neighbourly"},
                                     "seo_focus": {"primary_keywords": ["agency"]}})  # fmt: skip
    await cg.set_strategy("pizzeria", {"seo_focus": {"primary_keywords": ["wood-fired pizza"]}})
    await cg.set_template("agency", "blog", "Post on {{ topic }}.\nTone: {{ tone.formality }}, "
                          "{{ tone.voice }}.\nKeywords: {{ primary_keywords | join(', ') }}.")
    built = await cg.prompt("pizzeria", topic=TOPIC, content_type="blog")
    assert "Tone: warm, neighbourly." in built.prompt
    assert "Keywords: wood-fired pizza." in built.prompt and "agency" not in built.prompt

    old = await cg.generate(client="pizzeria", topic=TOPIC, content_type="blog")
    assert "Tone: warm, neighbourly." in fake.history[-1][1]
    assert "wood-fired pizza" in fake.history[-1][1]
    assert (old.strategy_version, old.template_version) == (1, "v1")
    stored = await cg.status(old.id)
    assert (stored.strategy_version, stored.template_version) == (1, "v1")
    assert stored.status_view()["strategy_version"] == 1

    await cg.set_strategy("pizzeria", {"seo_focus": {"primary_keywords": ["deep dish"]}})
    await cg.set_template("agency", "blog", "Shorter post on {{ topic }}.")
    new = await cg.generate(client="pizzeria", topic=TOPIC, content_type="blog")
    assert fake.history[-1][1].startswith("Shorter post on")
    assert (new.strategy_version, new.template_version) == (2, "v2")
    pizzeria = await cg.resolve_client("pizzeria")
    assert [j.id for j in await cg.jobs(client_id=pizzeria.id, strategy_version=1)] == [old.id]
    assert [j.id for j in await cg.jobs(client_id=pizzeria.id, template_version="v2")] == [new.id]


