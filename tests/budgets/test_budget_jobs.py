"""Budgets on real jobs against the loopback fake provider (issue 10, acceptance 3), unknown
prices (never a silent $0), and where a budget comes from."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.models import JobStatus
from contentgen.settings import Settings
from contentgen.storage import SqliteStorage
from contentgen.testing import FakeOpenAIServer

TOPIC = "Solar panels for small offices"
#: USD per 1M output tokens; input is free, so a call's cost is its max_tokens times this.
PRICE_OUT = 2.0


def all_of_max_tokens(request: dict[str, Any]) -> tuple[int, int]:
    """A model that always writes to its limit: its cost is exactly the router's estimate."""
    return 0, int(request["max_tokens"])


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer(usage=all_of_max_tokens, delay=0.01) as running:
        yield running


def make_settings(tmp_path: Path, server: FakeOpenAIServer, **extra: Any) -> Settings:
    catalogue = {"models": {"openai/gpt-4o-mini": {"price_in": 0, "price_out": PRICE_OUT}}}
    fields: dict[str, Any] = {
        "home": tmp_path / "home", "api_base": server.base_url, "model": "openai/gpt-4o-mini",
        "retry_wait": 0, "concurrency": 32, "catalogue": catalogue, "repair_rounds": 0,
        **extra,
    }  # fmt: skip
    return Settings(**fields)


@pytest.fixture
async def cg(tmp_path: Path, server: FakeOpenAIServer) -> AsyncIterator[LocalClient]:
    storage = SqliteStorage(tmp_path / "data" / "contentgen.db")
    async with LocalClient.from_settings(make_settings(tmp_path, server), storage=storage,
                                         cache=MemoryCache()) as client:  # fmt: skip
        yield client


async def run_all(cg: LocalClient, client: str, n: int) -> list[Any]:
    requests = [await cg.make_request(client, topic=TOPIC) for _ in range(n)]
    ids = await asyncio.gather(*(cg.submit(r) for r in requests))  # all submitted at once
    return list(await asyncio.gather(*(cg.wait(i) for i in ids)))


async def test_a_budget_for_k_pieces_pays_for_k_and_refuses_the_rest_before_calling(
    cg: LocalClient, server: FakeOpenAIServer
) -> None:
    k = 4
    await cg.add_client("calibration")
    (one,) = await run_all(cg, "calibration", 1)
    piece_nanos = (await cg.storage.list_usage(one.id))[0].cost_nanos
    assert one.status is JobStatus.COMPLETED and piece_nanos and server.requests == 1

    await cg.add_client("acme")
    await cg.set_budget("acme", k * piece_nanos / 1e9)
    jobs = await run_all(cg, "acme", 3 * k)

    done = [j for j in jobs if j.status is JobStatus.COMPLETED]
    refused = [j for j in jobs if j.status is JobStatus.FAILED]
    assert len(done) == k and len(refused) == 2 * k
    assert server.requests == 1 + k  # no provider call for a refused job
    for job in refused:
        assert job.error is not None and job.error.startswith("budget exceeded")
        for number in ("spent $", "reserved by running jobs $", "needs up to $"):
            assert number in job.error
        assert await cg.storage.list_usage(job.id) == []
    status = await cg.budget("acme")
    assert status.state.spent_nanos == k * piece_nanos <= status.budget.limit_nanos  # type: ignore[operator]
    assert status.state.reserved_nanos == 0 and status.headroom_nanos == 0


async def test_inherited_budget_applies_to_the_childs_own_spending(
    cg: LocalClient, server: FakeOpenAIServer
) -> None:
    await cg.add_client("agency")
    await cg.add_client("brand", parent="agency")
    await cg.set_budget("agency", 0)
    status = await cg.budget("brand")
    assert status.budget.inherited and status.budget.origin() == "from agency"
    (job,) = await run_all(cg, "brand", 1)
    assert job.status is JobStatus.FAILED and "set on 'agency'" in (job.error or "")
    assert server.requests == 0
    await cg.set_budget("brand", 1)  # its own budget wins
    assert (await cg.budget("brand")).budget.origin() == "own"
    (job,) = await run_all(cg, "brand", 1)
    assert job.status is JobStatus.COMPLETED
    agency = await cg.budget("agency")
    assert agency.state.spent_nanos == 0  # a parent's budget is not a pool


async def test_unknown_price_is_recorded_as_unknown_and_refused_under_a_budget(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    settings = make_settings(tmp_path, server, model="openai/house-model", catalogue=None)
    storage = SqliteStorage(tmp_path / "data" / "contentgen.db")
    async with LocalClient.from_settings(settings, storage=storage,
                                         cache=MemoryCache()) as cg:  # fmt: skip
        (job,) = await run_all(cg, None, 1)
        assert job.status is JobStatus.COMPLETED and job.result is not None
        meta = job.result.metadata
        assert meta.unpriced_calls == 1 and "cost unknown" in (meta.seo_notes or "")
        (row,) = await cg.storage.list_usage(job.id)
        assert row.cost is None and row.cost_nanos is None and row.output_tokens > 0
        report = await cg.usage(by="model")
        assert report.total.unpriced_calls == 1 and report.total.cost_nanos is None

        await cg.set_budget(None, 100)
        (job,) = await run_all(cg, None, 1)
        assert job.status is JobStatus.FAILED and "price is unknown" in (job.error or "")
        assert server.requests == 1


async def test_budget_amounts_are_checked(cg: LocalClient) -> None:
    from contentgen.errors import ClientNotFound, InvalidInput

    for bad in ("-1", "lots", "nan", 1e12):
        with pytest.raises(InvalidInput):
            await cg.set_budget(None, bad)
    with pytest.raises(ClientNotFound):
        await cg.set_budget(str(uuid.uuid4()), 5)
    assert (await cg.set_budget(None, "$12.50")).budget.limit_nanos == 12_500_000_000
    assert (await cg.set_budget(None, None)).budget.limit_nanos is None
