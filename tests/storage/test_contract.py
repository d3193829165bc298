"""The Storage contract, part 1: lifecycle, clients and their setup. Runs on every backend.

Jobs, usage and prompt jobs are in ``test_contract_jobs.py``.
"""

from __future__ import annotations

import uuid

import pytest

from contentgen.errors import (
    ClientNotFound,
    Conflict,
    InvalidInput,
    NotFound,
    StorageError,
    StrategyNotFound,
)
from contentgen.models import (
    Client,
    ContentGuidelines,
    ContentPreference,
    ContentType,
    JobStatus,
    PromptJob,
    SeoFocus,
    SeoRule,
    StrategyConfig,
)
from contentgen.storage import Storage

from .conftest import StorageFactory
from .factories import claim, finish, make_job, make_usage, prompt_request_for


# lifecycle --------------------------------------------------------------------------------------
async def test_operations_need_open(make_storage: StorageFactory) -> None:
    unopened = make_storage()
    with pytest.raises(StorageError, match="not open"):
        await unopened.list_clients()


async def test_open_is_idempotent_and_data_survives_reopen(make_storage: StorageFactory) -> None:
    storage = make_storage()
    await storage.open()
    await storage.open()
    acme = await storage.add_client(Client(name="Acme"))
    await storage.aclose()
    await storage.aclose()
    with pytest.raises(StorageError):
        await storage.get_client(acme.id)
    async with storage:
        assert await storage.get_client(acme.id) == acme


# clients --------------------------------------------------------------------------------------
async def test_client_round_trip(storage: Storage) -> None:
    parent = await storage.add_client(Client(name="Parent Co"))
    child = Client(name="  Child Co  ", parent_id=parent.id)
    assert await storage.add_client(child) == child
    assert await storage.get_client(child.id) == child
    assert (await storage.get_client(child.id)).name == "Child Co"  # type: ignore[union-attr]
    assert await storage.get_client(uuid.uuid4()) is None


async def test_client_name_is_unique_case_insensitively(storage: Storage, client: Client) -> None:
    with pytest.raises(Conflict, match="already exists"):
        await storage.add_client(Client(name="ACME"))
    assert await storage.get_client_by_name("aCmE") == client
    assert await storage.get_client_by_name("nobody") is None


async def test_client_id_is_unique(storage: Storage, client: Client) -> None:
    with pytest.raises(Conflict):
        await storage.add_client(Client(id=client.id, name="Other"))


async def test_client_parent_must_exist(storage: Storage) -> None:
    with pytest.raises(ClientNotFound):
        await storage.add_client(Client(name="Orphan", parent_id=uuid.uuid4()))
    assert await storage.list_clients() == []


async def test_list_clients_by_name(storage: Storage) -> None:
    for name in ("beta", "Alpha", "gamma"):
        await storage.add_client(Client(name=name))
    assert [c.name for c in await storage.list_clients()] == ["Alpha", "beta", "gamma"]


async def test_rename_client(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    renamed = await storage.rename_client(client.id, "Acme Corp")
    assert renamed == client.model_copy(update={"name": "Acme Corp"})
    assert await storage.get_client_by_name("acme corp") == renamed
    assert await storage.get_client_by_name("acme") is None
    assert (await storage.rename_client(client.id, "ACME CORP")).name == "ACME CORP"
    with pytest.raises(Conflict):
        await storage.rename_client(client.id, "other")
    with pytest.raises(InvalidInput):
        await storage.rename_client(client.id, "   ")
    with pytest.raises(ClientNotFound):
        await storage.rename_client(uuid.uuid4(), "New")
    assert await storage.get_client(other.id) == other
    assert (await storage.get_client(client.id)).name == "ACME CORP"  # type: ignore[union-attr]


async def test_returned_models_are_copies(storage: Storage, client: Client) -> None:
    fetched = await storage.get_client(client.id)
    assert fetched is not None
    fetched.name = "Mutated"
    assert (await storage.get_client(client.id)) == client
    strategy = await storage.add_strategy(client.id, "s", StrategyConfig(), [])
    strategy.config.tone.voice = "shouty"
    strategy.active = False
    assert await storage.get_strategy(client.id) == strategy.model_copy(
        update={"config": StrategyConfig(), "active": True}
    )


async def test_delete_client_removes_everything_it_owns(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    jobs = {}
    for owner in (client, other):
        await storage.add_strategy(owner.id, "s", StrategyConfig(), ["first"])
        await storage.add_seo_rule(SeoRule(client_id=owner.id, name="h1", rule="one h1"))
        await storage.set_preference(ContentPreference(client_id=owner.id, key="k", value="v"))
        await storage.add_template(owner.id, ContentType.BLOG, "Write {{ topic }}")
        await storage.save_prompt_job(PromptJob(params=prompt_request_for(owner.id)))
        job = await storage.create_job(make_job(owner.id))
        await finish(storage, await claim(storage, job), [make_usage(job)],
                     status=JobStatus.FAILED, result=None, error="boom")  # fmt: skip
        await claim(storage, await storage.create_job(make_job(owner.id)))  # a live lease
        jobs[owner.id] = job

    await storage.delete_client(client.id)

    assert await storage.get_client(client.id) is None
    assert await storage.get_client_by_name("acme") is None
    assert await storage.list_strategies(client.id) == []
    assert await storage.strategy_history(client.id) == []
    assert await storage.list_seo_rules(client.id) == []
    assert await storage.list_preferences(client.id) == []
    assert await storage.list_templates(client.id) == []
    assert await storage.count_jobs(client.id) == 0
    assert await storage.get_job(jobs[client.id].id) is None
    assert await storage.list_usage(jobs[client.id].id) == []
    assert await storage.job_attempts(jobs[client.id].id) == []
    # the other client is untouched, and the name is free again
    assert len(await storage.list_strategies(other.id)) == 1
    assert len(await storage.strategy_history(other.id)) == 1
    assert len(await storage.list_seo_rules(other.id)) == 1
    assert len(await storage.list_preferences(other.id)) == 1
    assert len(await storage.list_templates(other.id)) == 1
    assert await storage.count_jobs(other.id) == 2
    assert len(await storage.list_usage(jobs[other.id].id)) == 1
    assert len(await storage.job_attempts(jobs[other.id].id)) == 1
    await storage.add_client(Client(name="acme"))


async def test_delete_client_removes_its_prompt_jobs(storage: Storage, client: Client) -> None:
    prompt_job = await storage.save_prompt_job(PromptJob(params=prompt_request_for(client.id)))
    await storage.delete_client(client.id)
    assert await storage.get_prompt_job(prompt_job.id) is None


async def test_delete_client_refuses_while_it_has_children(
    storage: Storage, client: Client
) -> None:
    child = await storage.add_client(Client(name="Child", parent_id=client.id))
    with pytest.raises(Conflict, match="child"):
        await storage.delete_client(client.id)
    assert await storage.get_client(client.id) == client
    await storage.delete_client(child.id)
    await storage.delete_client(client.id)
    assert await storage.list_clients() == []


async def test_delete_unknown_client(storage: Storage) -> None:
    with pytest.raises(ClientNotFound):
        await storage.delete_client(uuid.uuid4())


# strategies -------------------------------------------------------------------------------------
CONFIG = StrategyConfig(
    content_guidelines=ContentGuidelines(min_words=300, max_words=900, required_sections=["FAQ"]),
    seo_focus=SeoFocus(primary_keywords=["garden"], keyword_density=1.5),
)


async def test_add_strategy_versions_and_activates(storage: Storage, client: Client) -> None:
    assert await storage.get_strategy(client.id) is None
    first = await storage.add_strategy(client.id, "launch", CONFIG, ["initial"])
    assert (first.version, first.active, first.name, first.config) == (1, True, "launch", CONFIG)
    second = await storage.add_strategy(client.id, "v2", StrategyConfig(), ["tone", "length"])
    assert (second.version, second.active) == (2, True)

    assert await storage.get_strategy(client.id) == second
    assert await storage.get_strategy(client.id, 1) == first.model_copy(update={"active": False})
    assert await storage.get_strategy(client.id, 3) is None
    listed = await storage.list_strategies(client.id)
    assert [(s.version, s.active) for s in listed] == [(1, False), (2, True)]

    history = await storage.strategy_history(client.id)
    assert [(h.version, h.action, h.changes) for h in history] == [
        (1, "created", ["initial"]),
        (2, "created", ["tone", "length"]),
    ]
    assert [h.strategy_id for h in history] == [first.id, second.id]


async def test_strategy_versions_are_per_client(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    await storage.add_strategy(client.id, "a", StrategyConfig(), [])
    await storage.add_strategy(client.id, "b", StrategyConfig(), [])
    theirs = await storage.add_strategy(other.id, "c", StrategyConfig(), [])
    assert theirs.version == 1
    assert (await storage.get_strategy(client.id)).version == 2  # type: ignore[union-attr]


async def test_activate_strategy(storage: Storage, client: Client) -> None:
    first = await storage.add_strategy(client.id, "a", CONFIG, [])
    await storage.add_strategy(client.id, "b", StrategyConfig(), [])
    activated = await storage.activate_strategy(client.id, 1)
    assert activated == first
    assert await storage.get_strategy(client.id) == first
    listed = await storage.list_strategies(client.id)
    assert [(s.version, s.active) for s in listed] == [(1, True), (2, False)]
    history = await storage.strategy_history(client.id)
    assert [(h.version, h.action) for h in history] == [
        (1, "created"),
        (2, "created"),
        (1, "activated"),
    ]


async def test_activate_missing_strategy(storage: Storage, client: Client) -> None:
    await storage.add_strategy(client.id, "a", CONFIG, [])
    with pytest.raises(StrategyNotFound):
        await storage.activate_strategy(client.id, 7)
    with pytest.raises(NotFound):
        await storage.activate_strategy(uuid.uuid4(), 1)
    assert len(await storage.strategy_history(client.id)) == 1


async def test_setup_needs_an_existing_client(storage: Storage) -> None:
    nobody = uuid.uuid4()
    with pytest.raises(ClientNotFound):
        await storage.add_strategy(nobody, "a", CONFIG, [])
    with pytest.raises(ClientNotFound):
        await storage.add_template(nobody, ContentType.BLOG, "body")
    with pytest.raises(ClientNotFound):
        await storage.add_seo_rule(SeoRule(client_id=nobody, name="r", rule="x"))
    with pytest.raises(ClientNotFound):
        await storage.set_preference(ContentPreference(client_id=nobody, key="k", value="v"))


# seo rules, preferences -------------------------------------------------------------------------
async def test_seo_rules(storage: Storage, client: Client) -> None:
    h1 = await storage.add_seo_rule(SeoRule(client_id=client.id, name="h1", rule="one h1"))
    meta = await storage.add_seo_rule(SeoRule(client_id=client.id, name="meta", rule="155 chars"))
    assert await storage.list_seo_rules(client.id) == [h1, meta]
    with pytest.raises(Conflict):
        await storage.add_seo_rule(SeoRule(client_id=client.id, name="h1", rule="again"))
    assert await storage.delete_seo_rule(client.id, "h1") is True
    assert await storage.delete_seo_rule(client.id, "h1") is False
    assert await storage.list_seo_rules(client.id) == [meta]


async def test_preferences_upsert_by_key(storage: Storage, client: Client) -> None:
    tone = await storage.set_preference(
        ContentPreference(client_id=client.id, key="tone", value="warm")
    )
    cta = await storage.set_preference(
        ContentPreference(client_id=client.id, key="cta", value="call us")
    )
    assert await storage.list_preferences(client.id) == [cta, tone]
    newer = ContentPreference(client_id=client.id, key="tone", value="formal")
    assert await storage.set_preference(newer) == newer
    assert await storage.list_preferences(client.id) == [cta, newer]
    assert await storage.delete_preference(client.id, "tone") is True
    assert await storage.delete_preference(client.id, "tone") is False
    assert await storage.list_preferences(client.id) == [cta]


# templates --------------------------------------------------------------------------------------
async def test_templates_are_versioned_per_content_type(storage: Storage, client: Client) -> None:
    b1 = await storage.add_template(client.id, ContentType.BLOG, "blog one")
    s1 = await storage.add_template(client.id, ContentType.SOCIAL, "social one")
    b2 = await storage.add_template(client.id, ContentType.BLOG, "blog two")
    assert [(t.version, t.active) for t in (b1, s1, b2)] == [(1, True), (1, True), (2, True)]

    assert await storage.get_template(client.id, ContentType.BLOG) == b2
    assert await storage.get_template(client.id, ContentType.BLOG, 1) == b1.model_copy(
        update={"active": False}
    )
    assert await storage.get_template(client.id, ContentType.SOCIAL) == s1
    assert await storage.get_template(client.id, ContentType.LOCAL) is None
    assert await storage.get_template(client.id, ContentType.BLOG, 9) is None
    listed = await storage.list_templates(client.id)
    assert [(t.content_type, t.version, t.active) for t in listed] == [
        (ContentType.BLOG, 1, False),
        (ContentType.BLOG, 2, True),
        (ContentType.SOCIAL, 1, True),
    ]
