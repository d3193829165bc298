"""POST /generate, GET /status/{job_id}, GET /jobs, cancel and retry: every status code and
body shape."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from contentgen.client.local import LocalClient
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord
from contentgen.models import ContentRequest, Job, JobStatus

from .support import TOPIC, poll_status

REFERENCE_STATUS_KEYS = {"job_id", "status", "created_at", "updated_at"}
RESULT_METADATA_KEYS = {
    "word_count", "keywords_used", "llm_provider", "model", "generation_cost",
    "generation_time_ms", "token_usage",
}  # fmt: skip


def body(client: str = "acme", **extra: Any) -> dict[str, Any]:
    return {"topic": TOPIC, "content_type": "blog", "client_id": client,
            "keywords": ["solar", "renewable"]} | extra  # fmt: skip


async def test_generate_returns_only_a_job_id_then_status_completes(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    response = await http.post("/generate", json=body())
    assert response.status_code == 200
    assert set(response.json()) == {"job_id"}
    job_id = response.json()["job_id"]
    uuid.UUID(job_id)
    assert response.headers["x-request-id"]

    done = await poll_status(http, job_id)
    assert set(done) >= REFERENCE_STATUS_KEYS
    assert done["job_id"] == job_id and "error" not in done
    result = done["result"]
    assert {"content", "title", "metadata"} <= set(result)
    assert set(result["metadata"]) >= RESULT_METADATA_KEYS
    assert set(result["metadata"]["token_usage"]) == {"input", "output"}
    assert result["metadata"]["model"] == "fake/writer"
    assert len(result["content"]) > 100
    assert done["params"]["client_id"] == str(acme.id)
    assert done["params"]["keywords"] == ["solar", "renewable"]


async def test_generate_accepts_the_client_by_uuid(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    response = await http.post("/generate", json=body(str(acme.id), length="short",
                                                      priority="cost"))  # fmt: skip
    assert response.status_code == 200
    done = await poll_status(http, response.json()["job_id"])
    assert done["params"]["length"] == "short" and done["params"]["priority"] == "cost"


async def test_generate_for_an_unknown_client_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post("/generate", json=body("nobody"))
    assert response.status_code == 404
    assert response.json() == {"error": "Client not found"}


async def test_a_failed_job_reports_its_error(
    http: httpx.AsyncClient, acme: ClientRecord, llm: FakeLLM
) -> None:
    from contentgen.errors import ProviderError

    llm.enqueue(*[ProviderError("model exploded", provider="fake", model="fake/writer")] * 10)
    job_id = (await http.post("/generate", json=body())).json()["job_id"]
    done = await poll_status(http, job_id, until="failed")
    assert "model exploded" in done["error"] and "result" not in done


@pytest.mark.parametrize("job_id", [
    str(uuid.uuid4()), "not-a-uuid", "1234", "00000000",
])  # fmt: skip
async def test_status_of_an_unknown_job_is_the_reference_404(
    http: httpx.AsyncClient, job_id: str
) -> None:
    response = await http.get(f"/status/{job_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found"}


async def test_status_never_accepts_an_id_prefix(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    job_id = (await http.post("/generate", json=body())).json()["job_id"]
    assert (await http.get(f"/status/{job_id}")).status_code == 200
    for prefix in (job_id[:8], job_id[:13], job_id[:35]):
        response = await http.get(f"/status/{prefix}")
        assert response.status_code == 404, prefix
        assert response.json() == {"error": "Job not found"}


async def _jobs_for(local: LocalClient, client: ClientRecord, n: int) -> list[Job]:
    """n jobs stored pending."""
    stored = []
    for i in range(n):
        request = ContentRequest(topic=f"{TOPIC} {i}", content_type="blog", client_id=client.id)
        stored.append(await local.storage.create_job(Job(params=request)))
    return stored


async def test_jobs_lists_newest_first_with_cursor_pages(
    http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord, globex: ClientRecord,
) -> None:  # fmt: skip
    ours = await _jobs_for(local, acme, 5)
    await _jobs_for(local, globex, 2)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"client": "acme", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await http.get("/jobs", params=params)
        assert response.status_code == 200
        page = response.json()
        assert set(page) == {"jobs", "next_cursor"}
        seen += [j["job_id"] for j in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [str(j.id) for j in sorted(ours, key=lambda j: j.created_at, reverse=True)]
    everyone = (await http.get("/jobs", params={"limit": 100})).json()
    assert len(everyone["jobs"]) == 7 and everyone["next_cursor"] is None


async def test_jobs_filters_by_status(
    idle_http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord
) -> None:
    http = idle_http
    ours = await _jobs_for(local, acme, 2)
    (first,) = await local.claim_jobs(1)  # the oldest
    assert first.job.id == ours[0].id
    await local.run_claimed(first)
    pending = (await http.get("/jobs", params={"status": "pending"})).json()["jobs"]
    assert [j["job_id"] for j in pending] == [str(ours[1].id)]
    done = (await http.get("/jobs", params={"status": "completed"})).json()["jobs"]
    assert [j["job_id"] for j in done] == [str(ours[0].id)]
    response = await http.get("/jobs", params={"status": "finished-ish"})
    assert response.status_code == 400
    assert response.json()["details"]["field"] == "status"


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 101}, {"limit": "many"}, {"cursor": "!!not-ours!!"},
])  # fmt: skip
async def test_jobs_rejects_bad_query_parameters(
    http: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    response = await http.get("/jobs", params=params)
    assert response.status_code == 400
    data = response.json()
    assert set(data) == {"error", "details"} and data["details"]["field"] in ("limit", "cursor")


async def test_jobs_for_an_unknown_client_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/jobs", params={"client": "nobody"})
    assert response.status_code == 404
    assert response.json() == {"error": "Client not found"}


async def test_cancel_and_retry_unknown_jobs_are_404(http: httpx.AsyncClient) -> None:
    for action in ("cancel", "retry"):
        response = await http.post(f"/jobs/{uuid.uuid4()}/{action}")
        assert response.status_code == 404
        assert response.json() == {"error": "Job not found"}


async def test_cancel_a_pending_job_then_retry_it(
    idle_http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord
) -> None:
    http = idle_http
    (job,) = await _jobs_for(local, acme, 1)
    cancelled = await http.post(f"/jobs/{job.id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await http.post(f"/jobs/{job.id}/cancel")
    assert again.status_code == 409 and set(again.json()) == {"error", "details"}

    retried = await http.post(f"/jobs/{job.id}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    (again,) = await local.claim_jobs(1)
    await local.run_claimed(again)
    await poll_status(http, str(job.id))


async def test_retry_of_a_completed_job_is_409(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    job_id = (await http.post("/generate", json=body())).json()["job_id"]
    await poll_status(http, job_id)
    response = await http.post(f"/jobs/{job_id}/retry")
    assert response.status_code == 409
    assert response.json()["error"]
    assert (await http.get(f"/status/{job_id}")).json()["status"] == JobStatus.COMPLETED


async def test_completed_status_bodies_come_from_memory_within_scope(
    http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord, globex: ClientRecord,
    caller: Any, token: Any,
) -> None:  # fmt: skip
    """(Jobs in other statuses are read every time: every poll in test_generate_... above.)"""
    job_id = (await http.post("/generate", json=body())).json()["job_id"]
    first = await poll_status(http, job_id)
    reads = 0
    original = local.storage.get_job

    async def counting(job: uuid.UUID) -> Job | None:
        nonlocal reads
        reads += 1
        return await original(job)

    local.storage.get_job = counting  # type: ignore[method-assign]
    try:
        again = await http.get(f"/status/{job_id}")
        assert again.status_code == 200 and again.json() == first
        assert reads == 0  # a completed job never changes: no database read
        async with caller(token([globex.id])) as other:
            hidden = await other.get(f"/status/{job_id}")
        assert hidden.status_code == 404 and hidden.json() == {"error": "Job not found"}
        assert reads == 1  # out of scope: answered like a missing job, from storage
    finally:
        local.storage.get_job = original  # type: ignore[method-assign]
