"""The Storage contract, part 5: usage rows — every field, exact money, summaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from contentgen.models import Client, JobStatus, LlmUsage, UsageSummary
from contentgen.storage import Storage

from .factories import T0, claim, finish, make_job, make_usage


async def _finished(storage: Storage, client: Client, *usage_fields: dict[str, object]) -> None:
    job = await storage.create_job(make_job(client.id))
    running = await claim(storage, job)
    await finish(storage, running, [make_usage(job, **f) for f in usage_fields])


async def test_every_usage_field_round_trips(storage: Storage, client: Client) -> None:
    job = await storage.create_job(make_job(client.id))
    running = await claim(storage, job)
    rows = [
        make_usage(
            job, provider="openai", model="o3-mini", cached_tokens=64, reasoning_tokens=900,
            finish_reason="length", cost=0.012345678, created_at=T0,
        ),
        make_usage(
            job, cost=None, error="HTTP 429: rate limited", finish_reason=None, input_tokens=0,
            output_tokens=0, latency_ms=12,
        ),
    ]  # fmt: skip
    await finish(storage, running, rows, status=JobStatus.FAILED, result=None, error="boom")
    assert await storage.list_usage(job.id) == rows
    stored = await storage.list_usage(job.id)
    assert stored[0].cost_nanos == 12_345_678 and stored[1].cost is None


def test_money_is_kept_to_the_nano_dollar() -> None:
    job = make_job(Client(name="x").id)
    assert make_usage(job, cost=0.1234567894).cost == 0.123456789
    assert make_usage(job, cost=0.1234567896).cost_nanos == 123_456_790
    assert make_usage(job, cost=0).cost_nanos == 0
    for bad in (-0.01, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            make_usage(job, cost=bad)
    with pytest.raises(ValidationError):
        LlmUsage.model_validate({**make_usage(job).model_dump(), "attempt": 0})


async def test_usage_summary_adds_up_exactly(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    await _finished(storage, client, {"cost": 0.1}, {"cost": 0.2, "cached_tokens": 5})
    await _finished(
        storage, client, {"cost": None, "error": "timeout", "model": "gpt-4o"}, {"cost": 0.3}
    )
    await _finished(storage, other, {"provider": "anthropic", "model": "claude", "cost": 1e-9})
    summary = await storage.usage_summary()
    assert [(s.provider, s.model) for s in summary] == [
        ("anthropic", "claude"), ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"),
    ]  # fmt: skip
    mini = summary[2]
    assert mini == UsageSummary(
        provider="openai", model="gpt-4o-mini", calls=3, failed_calls=0, input_tokens=360,
        output_tokens=1020, cached_tokens=5, reasoning_tokens=0, cost=0.6, unpriced_calls=0,
    )  # fmt: skip
    assert 0.1 + 0.2 + 0.3 != 0.6  # what float sums would have given
    assert (summary[1].cost, summary[1].unpriced_calls, summary[1].failed_calls) == (None, 1, 1)
    assert summary[0].cost == 1e-9
    mine = await storage.usage_summary(client_id=other.id)
    assert [(s.provider, s.calls) for s in mine] == [("anthropic", 1)]


async def test_usage_summary_by_time(storage: Storage, client: Client) -> None:
    times = [T0 - timedelta(days=1), T0, T0 + timedelta(hours=1)]
    await _finished(storage, client, *({"created_at": t, "cost": 0.5} for t in times))
    assert [s.calls for s in await storage.usage_summary(since=T0)] == [2]
    assert [s.calls for s in await storage.usage_summary(until=T0)] == [1]
    window = await storage.usage_summary(since=T0, until=T0 + timedelta(minutes=1))
    assert [(s.calls, s.cost) for s in window] == [(1, 0.5)]
    assert await storage.usage_summary(since=T0 + timedelta(days=1)) == []
