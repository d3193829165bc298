"""The Storage contract, part 2: jobs, their lifecycle, usage rows and prompt jobs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contentgen.errors import ClientNotFound, Conflict, InvalidInput, JobNotFound
from contentgen.models import (
    Client,
    Job,
    JobFilter,
    JobStatus,
    PromptJob,
    PromptMetadata,
)
from contentgen.storage import Storage

from .factories import make_job, make_result, make_usage, prompt_request_for

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


async def _running(storage: Storage, client: Client) -> Job:
    job = await storage.create_job(make_job(client.id))
    assert await storage.start_job(job.id, 1, "blog-v1")
    return job


# create / read ----------------------------------------------------------------------------------
async def test_job_round_trip(storage: Storage, client: Client) -> None:
    job = make_job(client.id)
    assert await storage.create_job(job) == job
    fetched = await storage.get_job(job.id)
    assert fetched == job
    assert fetched is not None
    assert fetched.created_at.utcoffset() == timedelta(0)
    assert fetched.params.keywords == ["garden", "spring"]
    assert await storage.get_job(uuid.uuid4()) is None


async def test_job_round_trip_of_every_field(storage: Storage, client: Client) -> None:
    job = make_job(
        client.id,
        status=JobStatus.COMPLETED,
        result=make_result(),
        error="earlier attempt timed out",
        strategy_version=3,
        template_version="blog-v2",
        created_at=T0,
        updated_at=T0 + timedelta(seconds=5, microseconds=17),
    )
    await storage.create_job(job)
    assert await storage.get_job(job.id) == job


async def test_create_job_needs_client_and_new_id(storage: Storage, client: Client) -> None:
    with pytest.raises(ClientNotFound):
        await storage.create_job(make_job(uuid.uuid4()))
    job = await storage.create_job(make_job(client.id))
    with pytest.raises(Conflict):
        await storage.create_job(job)


async def test_list_jobs_newest_first_with_filters(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    jobs = [
        await storage.create_job(make_job(owner.id, created_at=T0 + timedelta(minutes=i)))
        for i, owner in enumerate([client, other, client, client])
    ]
    assert await storage.list_jobs(JobFilter()) == jobs[::-1]
    assert await storage.list_jobs(JobFilter(limit=2)) == [jobs[3], jobs[2]]
    assert await storage.list_jobs(JobFilter(client_id=other.id)) == [jobs[1]]
    assert await storage.start_job(jobs[0].id, 2, "t1")
    assert await storage.start_job(jobs[2].id, 3, "t1")
    started = await storage.list_jobs(JobFilter(status=JobStatus.IN_PROGRESS))
    assert [j.id for j in started] == [jobs[2].id, jobs[0].id]
    by_strategy = await storage.list_jobs(JobFilter(strategy_version=2))
    assert [j.id for j in by_strategy] == [jobs[0].id]
    by_template = await storage.list_jobs(JobFilter(client_id=client.id, template_version="t1"))
    assert [j.id for j in by_template] == [jobs[2].id, jobs[0].id]
    assert await storage.list_jobs(JobFilter(status=JobStatus.FAILED)) == []
    assert await storage.count_jobs(client.id) == 3
    assert await storage.count_jobs(other.id) == 1
    assert await storage.count_jobs(uuid.uuid4()) == 0


async def test_list_jobs_ties_on_time_newest_inserted_first(
    storage: Storage, client: Client
) -> None:
    jobs = [await storage.create_job(make_job(client.id, created_at=T0)) for _ in range(3)]
    assert await storage.list_jobs(JobFilter()) == jobs[::-1]


# lifecycle --------------------------------------------------------------------------------------
async def test_start_job_only_from_pending(storage: Storage, client: Client) -> None:
    job = await storage.create_job(make_job(client.id, created_at=T0, updated_at=T0))
    assert await storage.start_job(job.id, 4, "blog-v2") is True
    started = await storage.get_job(job.id)
    assert started is not None
    assert started.status is JobStatus.IN_PROGRESS
    assert (started.strategy_version, started.template_version) == (4, "blog-v2")
    assert started.updated_at > T0
    assert await storage.start_job(job.id, 5, "other") is False
    assert await storage.get_job(job.id) == started
    with pytest.raises(JobNotFound):
        await storage.start_job(uuid.uuid4(), None, None)


async def test_concurrent_starts_have_one_winner(storage: Storage, client: Client) -> None:
    job = await storage.create_job(make_job(client.id))
    wins = await asyncio.gather(*(storage.start_job(job.id, 1, None) for _ in range(20)))
    assert sorted(wins) == [False] * 19 + [True]


async def test_complete_job_stores_result_and_usage(storage: Storage, client: Client) -> None:
    job = await _running(storage, client)
    usage = [make_usage(job), make_usage(job, provider="anthropic", model="claude-3-haiku")]
    done = await storage.complete_job(job.id, make_result(), usage)
    assert done.status is JobStatus.COMPLETED
    assert done.result == make_result()
    assert (done.strategy_version, done.template_version) == (1, "blog-v1")
    assert await storage.get_job(job.id) == done
    assert await storage.list_usage(job.id) == usage


async def test_complete_job_never_writes_twice(storage: Storage, client: Client) -> None:
    job = await _running(storage, client)
    done = await storage.complete_job(job.id, make_result(), [make_usage(job)])
    with pytest.raises(Conflict, match="completed"):
        await storage.complete_job(job.id, make_result("other"), [make_usage(job)])
    assert await storage.get_job(job.id) == done
    assert len(await storage.list_usage(job.id)) == 1


async def test_complete_job_needs_in_progress(storage: Storage, client: Client) -> None:
    job = await storage.create_job(make_job(client.id))
    with pytest.raises(Conflict, match="pending"):
        await storage.complete_job(job.id, make_result(), [])
    assert await storage.get_job(job.id) == job
    with pytest.raises(JobNotFound):
        await storage.complete_job(uuid.uuid4(), make_result(), [])


async def test_complete_job_is_atomic(storage: Storage, client: Client) -> None:
    """A usage row the store refuses (a duplicate id) leaves no trace of the completion."""
    job = await _running(storage, client)
    before = await storage.get_job(job.id)
    row = make_usage(job)
    with pytest.raises(Conflict):
        await storage.complete_job(job.id, make_result(), [row, make_usage(job), row])
    assert await storage.get_job(job.id) == before
    assert await storage.list_usage(job.id) == []


async def test_usage_row_ids_are_unique_across_jobs(storage: Storage, client: Client) -> None:
    first = await _running(storage, client)
    second = await _running(storage, client)
    row = make_usage(first)
    await storage.complete_job(first.id, make_result(), [row])
    clash = make_usage(second, id=row.id)
    with pytest.raises(Conflict):
        await storage.complete_job(second.id, make_result(), [clash])
    assert (await storage.get_job(second.id)).status is JobStatus.IN_PROGRESS  # type: ignore[union-attr]


async def test_usage_must_belong_to_the_job(storage: Storage, client: Client) -> None:
    job = await _running(storage, client)
    other = await _running(storage, client)
    with pytest.raises(InvalidInput):
        await storage.complete_job(job.id, make_result(), [make_usage(other)])
    with pytest.raises(InvalidInput):
        await storage.fail_job(job.id, "x", [make_usage(job, client_id=uuid.uuid4())])
    assert (await storage.get_job(job.id)).status is JobStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert await storage.list_usage(job.id) == []


@pytest.mark.parametrize("started", [False, True])
async def test_fail_job(storage: Storage, client: Client, started: bool) -> None:
    job = await storage.create_job(make_job(client.id))
    if started:
        assert await storage.start_job(job.id, 1, None)
    usage = [make_usage(job)]
    failed = await storage.fail_job(job.id, "provider timed out after 3 attempts", usage)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "provider timed out after 3 attempts"
    assert failed.result is None
    assert await storage.get_job(job.id) == failed
    assert await storage.list_usage(job.id) == usage


async def test_fail_job_refuses_finished_jobs(storage: Storage, client: Client) -> None:
    job = await _running(storage, client)
    done = await storage.complete_job(job.id, make_result(), [])
    with pytest.raises(Conflict):
        await storage.fail_job(job.id, "late", [make_usage(job)])
    assert await storage.get_job(job.id) == done
    assert await storage.list_usage(job.id) == []
    with pytest.raises(JobNotFound):
        await storage.fail_job(uuid.uuid4(), "x", [])


async def test_requeue_stale(storage: Storage, client: Client) -> None:
    running = [await _running(storage, client) for _ in range(3)]
    waiting = await storage.create_job(make_job(client.id))
    await storage.complete_job(running[0].id, make_result(), [])
    assert await storage.requeue_stale() == 2
    assert await storage.requeue_stale() == 0
    pending = await storage.list_jobs(JobFilter(status=JobStatus.PENDING))
    assert {j.id for j in pending} == {running[1].id, running[2].id, waiting.id}
    assert await storage.start_job(running[1].id, 2, None)


async def test_list_usage_of_unknown_job(storage: Storage) -> None:
    assert await storage.list_usage(uuid.uuid4()) == []


# prompt jobs ------------------------------------------------------------------------------------
async def test_prompt_job_upsert(storage: Storage, client: Client) -> None:
    job = PromptJob(params=prompt_request_for(client.id), created_at=T0, updated_at=T0)
    assert await storage.save_prompt_job(job) == job
    assert await storage.get_prompt_job(job.id) == job
    done = job.model_copy(
        update={
            "status": JobStatus.COMPLETED,
            "prompt": "Write about local plumbing.",
            "metadata": PromptMetadata(
                client_id=client.id,
                content_type=job.params.content_type,
                keywords=[],
                template_version="local-v1",
                strategy_version=2,
            ),
            "updated_at": T0 + timedelta(seconds=1),
        }
    )
    await storage.save_prompt_job(done)
    assert await storage.get_prompt_job(job.id) == done
    assert await storage.get_prompt_job(uuid.uuid4()) is None


async def test_prompt_job_for_unknown_client_is_kept(storage: Storage) -> None:
    job = PromptJob(
        params=prompt_request_for(uuid.uuid4()), status=JobStatus.FAILED, error="no client"
    )
    await storage.save_prompt_job(job)
    assert await storage.get_prompt_job(job.id) == job


# lookups by request identity and id prefix ------------------------------------------------------
async def test_find_job_by_key_returns_the_newest(storage: Storage, client: Client) -> None:
    first = make_job(client.id).model_copy(update={"request_key": "k1", "created_at": T0})
    second = make_job(client.id).model_copy(
        update={"request_key": "k1", "created_at": T0 + timedelta(seconds=1)}
    )
    other = make_job(client.id).model_copy(update={"request_key": "k2"})
    for job in (first, second, other):
        await storage.create_job(job)
    found = await storage.find_job_by_key("k1")
    assert found is not None and found.id == second.id and found.request_key == "k1"
    assert await storage.find_job_by_key("missing") is None


async def test_find_jobs_by_prefix(storage: Storage, client: Client) -> None:
    a = make_job(client.id).model_copy(
        update={"id": uuid.UUID("abcd0000-0000-4000-8000-000000000001")}
    )
    b = make_job(client.id).model_copy(
        update={"id": uuid.UUID("abcd1111-0000-4000-8000-000000000002")}
    )
    for job in (a, b):
        await storage.create_job(job)
    assert [j.id for j in await storage.find_jobs_by_prefix("abcd0")] == [a.id]
    assert [j.id for j in await storage.find_jobs_by_prefix("ABCD1")] == [b.id]
    assert len(await storage.find_jobs_by_prefix("abcd")) == 2
    assert await storage.find_jobs_by_prefix("abce") == []
    assert await storage.find_jobs_by_prefix("ab%") == []
