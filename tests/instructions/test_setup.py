"""Effective setups (field-level inheritance with origins), the strategy and prompt caches, and
the IM's async prompt-job contract — on MemoryStorage+MemoryCache and SqliteStorage+DiskCache."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from contentgen.cache import DiskCache, MemoryCache
from contentgen.client.local import Client
from contentgen.errors import PromptJobNotFound
from contentgen.instructions.defaults import BUILTIN_TEMPLATE_VERSION
from contentgen.llm.fake import FakeLLM
from contentgen.models import (
    ContentType,
    JobStatus,
    PromptJob,
    PromptRequest,
    SeoRule,
    StrategyConfig,
)
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage, SqliteStorage
from contentgen.storage import setup_rules as rules

TOPIC = "Best pizza in Denver"


async def prompt_text(cg: Client, client: str = "location", **fields: object) -> str:
    fields = {"topic": TOPIC, "content_type": "blog", **fields}
    return (await cg.prompt(client, **fields)).prompt


# inheritance -------------------------------------------------------------------------------
async def test_three_levels_merge_field_by_field_and_name_each_origin(tree: Client) -> None:
    setup = await tree.effective_setup("location")
    cfg = setup.config
    assert cfg.tone.formality == "formal" and cfg.tone.engagement == "calm"  # agency
    assert cfg.tone.voice == "playful"  # brand overrides one tone field, not the whole tone
    assert cfg.seo_focus.primary_keywords == ["wood-fired pizza"]  # brand
    assert cfg.seo_focus.keyword_density == 1.5  # brand
    assert cfg.content_guidelines.min_words == 900  # location
    assert cfg.content_guidelines.citation_required is True  # agency
    assert setup.origins == {
        "tone.formality": "agency",
        "tone.voice": "brand",
        "tone.engagement": "agency",
        "seo_focus.primary_keywords": "brand",
        "seo_focus.keyword_density": "brand",
        "content_guidelines.min_words": "location",
        "content_guidelines.citation_required": "agency",
    }
    assert [c.name for c in setup.chain] == ["location", "brand", "agency"]
    # the version a job records is the client's own strategy's
    assert (setup.strategy_version, setup.strategy_origin) == (1, "location")


async def test_a_client_without_a_strategy_reports_the_nearest_ancestors(tree: Client) -> None:
    await tree.add_client("kiosk", parent="location")
    await tree.set_strategy("brand", {"tone": {"voice": "cheeky"}})  # brand v2
    setup = await tree.effective_setup("kiosk")
    assert (setup.strategy_version, setup.strategy_origin) == (1, "location")
    assert setup.origins["tone.voice"] == "brand" and setup.config.tone.voice == "cheeky"
    # brand v2 sets only the voice now: its keywords are gone, the agency's show through
    assert setup.config.seo_focus.primary_keywords == ["agency keyword"]
    assert setup.origins["seo_focus.primary_keywords"] == "agency"


async def test_a_client_with_no_strategy_anywhere_gets_builtins(cg: Client) -> None:
    await cg.add_client("solo")
    setup = await cg.effective_setup("solo")
    assert setup.strategy_version == 0 and setup.strategy_origin is None
    assert setup.config == StrategyConfig() and setup.origins == {}
    built = await cg.prompt("solo", topic=TOPIC, content_type="blog")
    assert built.metadata.template_version == BUILTIN_TEMPLATE_VERSION
    assert built.metadata.strategy_version == 0


async def test_a_child_list_replaces_the_parents_list(tree: Client) -> None:
    await tree.set_strategy("agency", {"content_guidelines": {"required_sections": ["A", "B"]}})
    await tree.set_strategy("location", {"content_guidelines": {"required_sections": ["Menu"]}})
    built = await tree.prompt("location", topic=TOPIC, content_type="blog")
    assert built.plan.sections == ["Menu"]
    assert "- Menu\n" in built.prompt and "- A\n" not in built.prompt


async def test_rules_and_preferences_inherit_by_name(tree: Client) -> None:
    await tree.set_seo_rule("agency", "title", "Titles under 60 characters")
    await tree.set_seo_rule("agency", "links", "Link to two internal pages")
    await tree.set_seo_rule("location", "title", "Name the city in the title")
    await tree.set_preference("agency", "avoid", "jargon")
    await tree.set_preference("brand", "sign-off", "Ciao!")
    setup = await tree.effective_setup("location")
    assert {k: (v.value, v.origin) for k, v in setup.seo_rules.items()} == {
        "title": ("Name the city in the title", "location"),
        "links": ("Link to two internal pages", "agency"),
    }
    assert {k: (v.value, v.origin) for k, v in setup.preferences.items()} == {
        "avoid": ("jargon", "agency"),
        "sign-off": ("Ciao!", "brand"),
    }
    prompt = await prompt_text(tree)
    assert "SEO rule: Name the city in the title" in prompt
    assert "Titles under 60 characters" not in prompt
    assert "Preference (sign-off): Ciao!" in prompt
    # removing the child's own rule uncovers the parent's
    assert await tree.remove_seo_rule("location", "title")
    assert "SEO rule: Titles under 60 characters" in await prompt_text(tree)


async def test_templates_inherit_per_content_type(tree: Client) -> None:
    await tree.set_template("agency", "blog", "AGENCY {{ topic }} in a {{ tone.voice }} voice")
    await tree.set_template("brand", "social", "BRAND {{ topic }}")
    await tree.set_template("brand", "social", "BRAND v2 {{ topic }}")
    setup = await tree.effective_setup("location")
    assert setup.template_origins == {ContentType.BLOG: "agency", ContentType.SOCIAL: "brand"}
    blog = await tree.prompt("location", topic=TOPIC, content_type="blog")
    assert blog.prompt == f"AGENCY {TOPIC} in a playful voice\n"
    assert blog.metadata.template_version == "v1"
    social = await tree.prompt("location", topic=TOPIC, content_type="social")
    assert social.prompt == f"BRAND v2 {TOPIC}\n" and social.metadata.template_version == "v2"
    local = await tree.prompt("location", topic=TOPIC, content_type="local")
    assert local.metadata.template_version == BUILTIN_TEMPLATE_VERSION
    # the location's own blog template wins over the agency's
    await tree.set_template("location", "blog", "LOCATION {{ topic }}")
    assert await prompt_text(tree) == f"LOCATION {TOPIC}\n"


# the strategy cache --------------------------------------------------------------------------
async def test_the_strategy_cache_serves_repeats(tree: Client) -> None:
    await prompt_text(tree)
    before = await tree.cache.stats()
    for _ in range(3):
        await tree.instructions.setup_for((await tree.resolve_client("location")).id)
    after = await tree.cache.stats()
    assert after.hits == before.hits + 3 and after.misses == before.misses


async def test_a_change_behind_the_im_s_back_is_seen_at_once(tree: Client) -> None:
    """Another process writes to the same database: its change bumps the setup revision of
    the agency, which is part of the grandchild's cache key."""
    assert "Tone: formal, playful, calm." in await prompt_text(tree)
    agency = await tree.resolve_client("agency")
    casual = StrategyConfig.model_validate({"tone": {"formality": "casual"}})
    await rules.add_strategy(tree.storage, agency.id, "default", casual)
    assert "Tone: casual, playful." in await prompt_text(tree)
    await tree.set_strategy("agency", {"tone": {"formality": "friendly", "engagement": "warm"}})
    assert "Tone: friendly, playful, warm." in await prompt_text(tree)


@pytest.mark.parametrize("caches", ["one disk cache", "a memory cache each"])
async def test_two_clients_on_one_database_never_serve_a_stale_setup(
    tmp_path: Path, caches: str
) -> None:
    """Two processes' worth of objects: each has its own storage connection and IM on one
    database file, and either one shared cache directory or a cache of its own in memory
    (nothing tells the reader's cache about the writer's changes)."""
    settings = Settings(
        home=tmp_path / "home", model="openai/gpt-4o-mini", strategy_cache_ttl=3600
    )

    def make() -> Client:
        return Client.from_settings(
            settings, llm=FakeLLM(), storage=SqliteStorage(tmp_path / "cg.db"),
            cache=DiskCache(tmp_path / "cache") if caches == "one disk cache" else MemoryCache(),
        )  # fmt: skip

    async with make() as writer, make() as reader:
        await writer.add_client("acme")
        await writer.set_strategy("acme", {"tone": {"formality": "formal"}})
        assert "Tone: formal." in await prompt_text(reader, client="acme")
        await writer.set_strategy("acme", {"tone": {"formality": "casual"}})
        assert "Tone: casual." in await prompt_text(reader, client="acme")
        await writer.set_seo_rule("acme", "faq", "End with an FAQ")
        assert "End with an FAQ" in await prompt_text(reader, client="acme")
        await writer.activate_strategy("acme", 1)
        assert "Tone: formal." in await prompt_text(reader, client="acme")


Change = Callable[[Client], Awaitable[object]]
CHANGES: dict[str, tuple[Change, str]] = {
    "strategy": (
        lambda cg: cg.set_strategy("agency", {"tone": {"formality": "chatty"}}),
        "Tone: chatty, playful, eager.",
    ),
    "activate": (lambda cg: cg.activate_strategy("brand", 1), "Tone: formal, playful, calm."),
    "seo rule": (
        lambda cg: cg.set_seo_rule("agency", "faq", "End with an FAQ"),
        "SEO rule: End with an FAQ",
    ),
    "preference": (
        lambda cg: cg.set_preference("brand", "emoji", "none"),
        "Preference (emoji): none",
    ),
    "template": (
        lambda cg: cg.set_template("agency", "blog", "NEW {{ topic }}"),
        f"NEW {TOPIC}",
    ),
}


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_any_change_to_an_ancestor_reaches_the_grandchild_at_once(
    tree: Client, kind: str
) -> None:
    await tree.set_strategy("brand", {"tone": {"voice": "playful"}})  # brand v2 for "activate"
    await tree.set_strategy("brand", {"tone": {"voice": "playful", "engagement": "eager"}})
    change, expected = CHANGES[kind]
    before = await prompt_text(tree)
    assert expected not in before
    await change(tree)
    assert expected in await prompt_text(tree)


async def test_removing_a_rule_or_preference_invalidates_too(tree: Client) -> None:
    await tree.set_seo_rule("agency", "faq", "End with an FAQ")
    await tree.set_preference("agency", "emoji", "none")
    assert "End with an FAQ" in (text := await prompt_text(tree)) and "emoji" in text
    await tree.remove_seo_rule("agency", "faq")
    await tree.remove_preference("agency", "emoji")
    text = await prompt_text(tree)
    assert "End with an FAQ" not in text and "emoji" not in text


async def test_a_rename_reaches_templates_that_use_the_client_name(tree: Client) -> None:
    await tree.set_template("agency", "blog", "For {{ client_name }}: {{ topic }}")
    assert await prompt_text(tree) == f"For location: {TOPIC}\n"
    await tree.add_client("kiosk", parent="location")  # sets nothing of its own
    assert await prompt_text(tree, client="kiosk") == f"For kiosk: {TOPIC}\n"
    await tree.rename_client("location", "denver")
    assert await prompt_text(tree, client="denver") == f"For denver: {TOPIC}\n"
    await tree.rename_client("kiosk", "stand")
    assert await prompt_text(tree, client="stand") == f"For stand: {TOPIC}\n"


async def test_a_setup_read_during_a_change_is_not_cached(tmp_path: object) -> None:
    """A reader that loaded the old setup while a change was being written must not put it
    in the cache after the change invalidated it."""

    class Gated(MemoryStorage):
        gate: asyncio.Event | None = None

        async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
            if self.gate is not None:
                await self.gate.wait()
            return await super().list_seo_rules(client_id)

    storage = Gated()
    settings = Settings(model="openai/gpt-4o-mini", strategy_cache_ttl=3600)
    async with Client.from_settings(
        settings, llm=FakeLLM(), storage=storage, cache=MemoryCache()
    ) as cg:
        acme = await cg.add_client("acme")
        await cg.set_strategy("acme", {"tone": {"formality": "formal"}})
        storage.gate = gate = asyncio.Event()
        reader = asyncio.create_task(cg.instructions.setup_for(acme.id))
        await asyncio.sleep(0.01)  # the reader has read the strategy and waits on the rules
        await cg.set_strategy("acme", {"tone": {"formality": "casual"}})
        storage.gate = None
        gate.set()
        assert (await reader).config.tone.formality == "formal"  # it began before the change
        assert (await cg.effective_setup("acme")).config.tone.formality == "casual"


# the prompt cache ----------------------------------------------------------------------------
async def test_the_prompt_cache_serves_repeats_and_never_a_stale_prompt(tree: Client) -> None:
    first = await prompt_text(tree)
    hits = (await tree.cache.stats()).hits
    assert await prompt_text(tree) == first
    assert (await tree.cache.stats()).hits >= hits + 2  # the setup and the prompt
    await tree.set_strategy("location", {"content_guidelines": {"min_words": 1200}})
    second = await prompt_text(tree)
    assert "Length: 1200 to" in second and second != first
    await tree.activate_strategy("location", 1)
    assert await prompt_text(tree) == first
    # a different request is a different prompt, not the cached one
    assert "Length: 1200" not in await prompt_text(tree, keywords=["deep dish"])
    assert "deep dish" in await prompt_text(tree, keywords=["deep dish"])


async def test_prompts_are_cached_per_client(tree: Client) -> None:
    await tree.add_client("location-2", parent="brand")
    await tree.set_template("agency", "blog", "For {{ client_name }}")
    assert await prompt_text(tree, client="location") == "For location\n"
    assert await prompt_text(tree, client="location-2") == "For location-2\n"


# the IM's async contract ----------------------------------------------------------------------
async def wait_prompt(cg: Client, job_id: uuid.UUID) -> PromptJob:
    async with asyncio.timeout(5):
        while not (job := await cg.get_prompt(job_id)).status.finished:
            await asyncio.sleep(0.01)
    return job


async def test_generate_prompt_returns_a_job_and_get_prompt_its_result(tree: Client) -> None:
    location = await tree.resolve_client("location")
    request = PromptRequest(
        topic=TOPIC, content_type=ContentType.BLOG, client_id=location.id, keywords=["deep dish"]
    )
    job_id = await tree.generate_prompt(request)
    first = await tree.get_prompt(str(job_id))
    assert first.id == job_id and first.params == request
    if first.status is not JobStatus.COMPLETED:
        assert first.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)
        assert first.prompt is None and first.metadata is None
    done = await wait_prompt(tree, job_id)
    expected = await tree.prompt("location", topic=TOPIC, content_type="blog",
                                 keywords=["deep dish"])  # fmt: skip
    assert done.status is JobStatus.COMPLETED and done.error is None
    assert done.prompt == expected.prompt
    assert done.metadata == expected.metadata
    assert done.metadata is not None
    assert done.metadata.keywords == ["deep dish", "wood-fired pizza"]
    assert done.metadata.strategy_version == 1
    assert done.metadata.template_version == BUILTIN_TEMPLATE_VERSION
    stored = await tree.storage.get_prompt_job(job_id)  # kept in prompt_jobs
    assert stored is not None and stored.prompt == expected.prompt


async def test_a_prompt_job_for_an_unknown_client_ends_failed(cg: Client) -> None:
    request = PromptRequest(topic=TOPIC, content_type=ContentType.BLOG, client_id=uuid.uuid4())
    done = await wait_prompt(cg, await cg.generate_prompt(request))
    assert done.status is JobStatus.FAILED
    assert done.error is not None and done.error.startswith("client:")
    assert done.prompt is None


async def test_get_prompt_of_an_unknown_job_raises(cg: Client) -> None:
    with pytest.raises(PromptJobNotFound):
        await cg.get_prompt(uuid.uuid4())
