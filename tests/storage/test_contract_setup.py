"""The Storage contract, part 4: setup primitives under the versioning rules — setup
revisions, version clashes between writers, insertion order. Runs on every backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from contentgen.errors import Conflict, InvalidInput
from contentgen.models import (
    Client,
    ContentPreference,
    ContentType,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
)
from contentgen.storage import Storage
from contentgen.storage import setup_rules as rules

from .backends import Database
from .factories import T0

Change = Callable[[Storage, uuid.UUID], Awaitable[object]]
TONE = StrategyConfig.model_validate({"tone": {"voice": "warm"}})

CHANGES: dict[str, Change] = {
    "strategy": lambda s, c: rules.add_strategy(s, c, "s", TONE),
    "activation": lambda s, c: rules.activate_strategy(s, c, 1),
    "seo rule": lambda s, c: s.add_seo_rule(SeoRule(client_id=c, name="r2", rule="x")),
    "seo rule removed": lambda s, c: s.delete_seo_rule(c, "r1"),
    "preference": lambda s, c: s.set_preference(
        ContentPreference(client_id=c, key="k", value="v2")
    ),
    "preference removed": lambda s, c: s.delete_preference(c, "k"),
    "template": lambda s, c: rules.add_template(s, c, ContentType.BLOG, "new {{ topic }}"),
    "rename": lambda s, c: s.rename_client(c, f"renamed-{c.hex[:6]}"),
}


async def _family(storage: Storage) -> tuple[Client, Client, Client, Client]:
    """parent -> child -> grandchild, and an unrelated client, each with some setup."""
    parent = await storage.add_client(Client(name="Parent"))
    child = await storage.add_client(Client(name="Child", parent_id=parent.id))
    grandchild = await storage.add_client(Client(name="Grandchild", parent_id=child.id))
    other = await storage.add_client(Client(name="Other"))
    for member in (parent, child, grandchild, other):
        await rules.add_strategy(storage, member.id, "s", StrategyConfig())
        await storage.add_seo_rule(SeoRule(client_id=member.id, name="r1", rule="x"))
        await storage.set_preference(ContentPreference(client_id=member.id, key="k", value="v"))
    return parent, child, grandchild, other


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_every_setup_change_raises_the_revision_of_the_client_and_descendants(
    storage: Storage, kind: str
) -> None:
    parent, child, grandchild, other = await _family(storage)
    revisions = {c.id: await storage.setup_revision(c.id) for c in (parent, child, grandchild)}
    their = await storage.setup_revision(other.id)
    await CHANGES[kind](storage, child.id)
    assert await storage.setup_revision(parent.id) == revisions[parent.id]
    assert await storage.setup_revision(child.id) > revisions[child.id]
    assert await storage.setup_revision(grandchild.id) > revisions[grandchild.id]
    assert await storage.setup_revision(other.id) == their


async def test_revisions_of_new_and_unknown_clients(storage: Storage) -> None:
    assert await storage.setup_revision(uuid.uuid4()) == 0
    first = await storage.add_client(Client(name="First"))
    second = await storage.add_client(Client(name="Second", parent_id=first.id))
    assert 0 < await storage.setup_revision(first.id) < await storage.setup_revision(second.id)
    await storage.delete_client(second.id)
    assert await storage.setup_revision(second.id) == 0


async def test_reads_and_no_op_removals_leave_the_revision(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    revision = await storage.setup_revision(client.id)
    assert await storage.delete_seo_rule(client.id, "none") is False
    assert await storage.delete_preference(client.id, "none") is False
    await storage.list_strategies(client.id)
    await storage.get_template(client.id, ContentType.BLOG)
    assert await storage.setup_revision(client.id) == revision


async def test_a_refused_change_leaves_the_revision(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    await storage.add_seo_rule(SeoRule(client_id=client.id, name="r", rule="x"))
    revision = await storage.setup_revision(client.id)
    with pytest.raises(Conflict):
        await storage.add_seo_rule(SeoRule(client_id=client.id, name="r", rule="again"))
    assert await storage.setup_revision(client.id) == revision


# version clashes --------------------------------------------------------------------------------
async def test_insert_refuses_a_taken_version(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    first = await rules.add_strategy(storage, client.id, "a", TONE)
    clash = Strategy(client_id=client.id, name="b", version=first.version)
    entry = StrategyHistoryEntry(strategy_id=clash.id, client_id=client.id, version=1,
                                 action="created")  # fmt: skip
    with pytest.raises(Conflict) as info:
        await storage.insert_strategy(clash, entry)
    assert info.value.details["field"] == "version"
    assert await storage.list_strategies(client.id) == [first]
    assert len(await storage.strategy_history(client.id)) == 1
    tpl = await rules.add_template(storage, client.id, ContentType.BLOG, "one")
    with pytest.raises(Conflict) as info:
        await storage.insert_template(
            PromptTemplate(client_id=client.id, content_type=ContentType.BLOG, body="two")
        )
    assert info.value.details["field"] == "version"
    assert await storage.list_templates(client.id) == [tpl]


async def test_history_entry_must_match_its_strategy(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    strategy = Strategy(client_id=client.id)
    wrong = StrategyHistoryEntry(strategy_id=uuid.uuid4(), client_id=client.id, version=1,
                                 action="created")  # fmt: skip
    with pytest.raises(InvalidInput):
        await storage.insert_strategy(strategy, wrong)
    assert await storage.list_strategies(client.id) == []


async def test_an_inactive_version_leaves_the_active_one(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    active = await rules.add_strategy(storage, client.id, "a", TONE)
    draft = Strategy(client_id=client.id, name="draft", version=2, active=False)
    entry = StrategyHistoryEntry(strategy_id=draft.id, client_id=client.id, version=2,
                                 action="created")  # fmt: skip
    await storage.insert_strategy(draft, entry)
    assert await storage.get_strategy(client.id) == active


async def test_writers_on_two_instances_get_distinct_versions(db: Database) -> None:
    async with db.make() as a, db.make() as b:
        client = await a.add_client(Client(name="Acme"))
        made = await asyncio.gather(
            *(rules.add_strategy(s, client.id, f"s{i}", TONE) for i, s in enumerate([a, b] * 6)),
            *(rules.add_template(s, client.id, ContentType.BLOG, f"t{i}")
              for i, s in enumerate([b, a] * 4)),
        )  # fmt: skip
        strategies = await a.list_strategies(client.id)
        assert [s.version for s in strategies] == list(range(1, 13))
        assert sum(s.active for s in strategies) == 1
        assert sorted(s.version for s in made[:12] if isinstance(s, Strategy)) == list(
            range(1, 13)
        )
        templates = await b.list_templates(client.id)
        assert [t.version for t in templates] == list(range(1, 9))
        assert sum(t.active for t in templates) == 1
        history = await b.strategy_history(client.id)
        assert sorted(h.version for h in history) == list(range(1, 13))


# insertion order --------------------------------------------------------------------------------
async def test_history_and_rules_keep_insertion_order_not_timestamps(storage: Storage) -> None:
    client = await storage.add_client(Client(name="Acme"))
    names = ["z", "a", "m"]
    for name in names:  # equal timestamps: only the order added can decide
        await storage.add_seo_rule(SeoRule(client_id=client.id, name=name, rule=name,
                                           created_at=T0))  # fmt: skip
    assert [r.name for r in await storage.list_seo_rules(client.id)] == names
    one = await rules.add_strategy(storage, client.id, "a", TONE)
    await rules.add_strategy(storage, client.id, "b", TONE)
    await rules.activate_strategy(storage, client.id, one.version)
    history = await storage.strategy_history(client.id)
    assert [(h.version, h.action) for h in history] == [
        (1, "created"), (2, "created"), (1, "activated"),
    ]  # fmt: skip
