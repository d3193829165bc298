"""The Storage contract, part 2: jobs, their lifecycle, usage rows and prompt jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contentgen.errors import ClientNotFound, Conflict, InvalidInput
from contentgen.models import (
    Client,
    Job,
    JobFilter,
    JobStatus,
    PromptJob,
    PromptMetadata,
)
from contentgen.storage import Storage
from contentgen.storage.base import ClaimedJob

from .factories import claim, finish, make_job, make_result, make_usage, prompt_request_for

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


async def _running(storage: Storage, client: Client) -> ClaimedJob:
    job = await storage.create_job(make_job(client.id))
    return await claim(storage, job)


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
        error="earlier attempt timed out",
        strategy_version=3,
        template_version="blog-v2",
        request_key="k" * 32,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=5, microseconds=17),
    )
    await storage.create_job(job)
    assert await storage.get_job(job.id) == job


@pytest.mark.parametrize("status", [s for s in JobStatus if s is not JobStatus.PENDING])
async def test_create_job_only_pending(storage: Storage, client: Client, status: JobStatus) -> None:
    job = make_job(client.id, status=status)
    with pytest.raises(InvalidInput, match="pending"):
        await storage.create_job(job)
    assert await storage.get_job(job.id) is None


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
    assert (await storage.list_jobs(JobFilter())).jobs == jobs[::-1]
    assert (await storage.list_jobs(JobFilter(limit=2))).jobs == [jobs[3], jobs[2]]
    assert (await storage.list_jobs(JobFilter(client_id=other.id))).jobs == [jobs[1]]
    await finish(storage, await claim(storage, jobs[0]), strategy_version=2,
                 template_version="t1")  # fmt: skip
    await claim(storage, jobs[2])
    started = (await storage.list_jobs(JobFilter(status=JobStatus.IN_PROGRESS))).jobs
    assert [j.id for j in started] == [jobs[2].id]
    by_strategy = (await storage.list_jobs(JobFilter(strategy_version=2))).jobs
    assert [j.id for j in by_strategy] == [jobs[0].id]
    by_template = await storage.list_jobs(JobFilter(client_id=client.id, template_version="t1"))
    assert [j.id for j in by_template.jobs] == [jobs[0].id]
    assert (await storage.list_jobs(JobFilter(status=JobStatus.FAILED))).jobs == []
    assert await storage.count_jobs(client.id) == 3
    assert await storage.count_jobs(other.id) == 1
    assert await storage.count_jobs(uuid.uuid4()) == 0


async def test_list_jobs_orders_by_creation_not_by_timestamp(
    storage: Storage, client: Client
) -> None:
    """Equal or even decreasing ``created_at``: the order jobs were stored in decides."""
    times = [T0, T0, T0 - timedelta(days=1), T0]
    jobs = [await storage.create_job(make_job(client.id, created_at=t)) for t in times]
    assert (await storage.list_jobs(JobFilter())).jobs == jobs[::-1]
    assert (await storage.find_jobs_by_prefix("", limit=10)) == jobs


async def test_list_jobs_pages_with_a_cursor(storage: Storage, client: Client) -> None:
    other = await storage.add_client(Client(name="Other"))
    jobs = [
        await storage.create_job(make_job((client if i % 3 else other).id, created_at=T0))
        for i in range(11)
    ]
    seen: list[Job] = []
    cursor = None
    pages = 0
    while True:
        page = await storage.list_jobs(JobFilter(client_id=client.id, limit=3, cursor=cursor))
        seen += page.jobs
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    mine = [j for j in jobs if j.client_id == client.id]
    assert seen == mine[::-1] and pages == 3  # 7 jobs: 3 + 3 + 1
    # a job created meanwhile does not shift later pages
    first = await storage.list_jobs(JobFilter(limit=2))
    await storage.create_job(make_job(client.id))
    second = await storage.list_jobs(JobFilter(limit=2, cursor=first.next_cursor))
    assert [j.id for j in second.jobs] == [jobs[8].id, jobs[7].id]
    exact = await storage.list_jobs(JobFilter(client_id=other.id, limit=4))
    assert len(exact.jobs) == 4 and exact.next_cursor is None  # no empty last page
    assert (await storage.list_jobs(JobFilter(limit=0))).jobs == []


@pytest.mark.parametrize("cursor", ["nope", "-1", "1.5", "9" * 40, "١٢"])
async def test_list_jobs_refuses_a_bad_cursor(storage: Storage, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        await storage.list_jobs(JobFilter(cursor=cursor))


async def test_finish_stores_result_and_usage(storage: Storage, client: Client) -> None:
    running = await _running(storage, client)
    job = running.job
    usage = [make_usage(job), make_usage(job, provider="anthropic", model="claude-3-haiku")]
    done = await finish(storage, running, usage, strategy_version=1, template_version="blog-v1")
    assert done is not None
    assert done.status is JobStatus.COMPLETED
    assert done.result == make_result()
    assert (done.strategy_version, done.template_version) == (1, "blog-v1")
    assert await storage.get_job(job.id) == done
    assert await storage.list_usage(job.id) == usage


async def test_finish_is_atomic(storage: Storage, client: Client) -> None:
    """A usage row the store refuses (a duplicate id) leaves no trace of the finish."""
    running = await _running(storage, client)
    before = await storage.get_job(running.job.id)
    row = make_usage(running.job)
    with pytest.raises(Conflict):
        await finish(storage, running, [row, make_usage(running.job), row])
    assert await storage.get_job(running.job.id) == before
    assert await storage.list_usage(running.job.id) == []
    assert await finish(storage, running, [row]) is not None  # the lease still holds


async def test_usage_row_ids_are_unique_across_jobs(storage: Storage, client: Client) -> None:
    first = await _running(storage, client)
    second = await _running(storage, client)
    row = make_usage(first.job)
    await finish(storage, first, [row])
    clash = make_usage(second.job, id=row.id)
    with pytest.raises(Conflict):
        await finish(storage, second, [clash])
    assert (await storage.get_job(second.job.id)).status is JobStatus.IN_PROGRESS  # type: ignore[union-attr]


async def test_usage_must_belong_to_the_job(storage: Storage, client: Client) -> None:
    running = await _running(storage, client)
    other = await _running(storage, client)
    with pytest.raises(InvalidInput):
        await finish(storage, running, [make_usage(other.job)])
    with pytest.raises(InvalidInput):
        await finish(storage, running, [make_usage(running.job, client_id=uuid.uuid4())],
                     status=JobStatus.FAILED, result=None, error="x")  # fmt: skip
    assert (await storage.get_job(running.job.id)).status is JobStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert await storage.list_usage(running.job.id) == []


async def test_finish_failed_keeps_the_paid_usage(storage: Storage, client: Client) -> None:
    running = await _running(storage, client)
    usage = [make_usage(running.job)]
    failed = await finish(storage, running, usage, status=JobStatus.FAILED, result=None,
                          error="provider timed out after 3 attempts")  # fmt: skip
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error == "provider timed out after 3 attempts"
    assert failed.result is None
    assert await storage.get_job(running.job.id) == failed
    assert await storage.list_usage(running.job.id) == usage


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"status": JobStatus.PENDING}, "status"),
        ({"status": JobStatus.IN_PROGRESS}, "status"),
        ({"status": JobStatus.COMPLETED, "result": None}, "result"),
        ({"status": JobStatus.FAILED, "result": None, "error": None}, "error"),
    ],
)
async def test_finish_refuses_what_is_not_a_finish(
    storage: Storage, client: Client, fields: dict[str, object], match: str
) -> None:
    running = await _running(storage, client)
    with pytest.raises(InvalidInput, match=match):
        await finish(storage, running, **fields)
    assert (await storage.get_job(running.job.id)).status is JobStatus.IN_PROGRESS  # type: ignore[union-attr]


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
