"""/healthz, /readyz, /metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contentgen.client.local import LocalClient
from contentgen.errors import ProviderError
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord

from .support import TOPIC, poll_status


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_does_not_answer(
    http: httpx.AsyncClient, local: LocalClient
) -> None:
    await local.storage.aclose()
    original = local.storage.get_job

    async def broken(*_a: object, **_k: object) -> None:
        raise OSError("database is locked")

    local.storage.get_job = broken  # type: ignore[method-assign]
    try:
        response = await http.get("/readyz")
    finally:
        local.storage.get_job = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["error"].startswith("database unreachable")
    assert response.json()["details"] == {"check": "database"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_requests_errors_durations_cost_and_tokens(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    for ctype in ("blog", "social"):
        job_id = (await http.post("/generate", json={
            "topic": TOPIC, "content_type": ctype, "client_id": "acme", "model": "fake/writer",
        })).json()["job_id"]  # fmt: skip
        await poll_status(http, job_id)
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("content_requests_total", (("content_type", "blog"),))] == 1
    assert samples[("content_requests_total", (("content_type", "social"),))] == 1
    assert samples[("generation_duration_seconds_count", ())] == 2
    tokens_in = samples[("generation_tokens_total",
                         (("direction", "input"), ("model", "fake/writer")))]  # fmt: skip
    assert tokens_in > 0
    assert ("active_jobs", ()) in samples
    assert "client" not in response.text.replace("content_", "")  # no per-client label
    assert "_created" not in response.text


async def test_metrics_count_failed_jobs_by_a_bounded_error_type(
    http: httpx.AsyncClient, acme: ClientRecord, llm: FakeLLM
) -> None:
    llm.enqueue(*[ProviderError("rate limit exceeded (429)", provider="fake",
                                model="fake/writer", kind="rate_limit")] * 20)  # fmt: skip
    job_id = (await http.post("/generate", json={
        "topic": TOPIC, "content_type": "blog", "client_id": "acme",
    })).json()["job_id"]  # fmt: skip
    await poll_status(http, job_id, until="failed")
    samples = _samples((await http.get("/metrics")).text)
    assert samples[("content_errors_total", (("error_type", "rate_limit"),))] == 1


async def test_openapi_documents_every_route_without_422(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/generate", "/status/{job_id}", "/generate-prompt", "/prompt/{job_id}",
                 "/jobs", "/jobs/{job_id}/cancel", "/jobs/{job_id}/retry",
                 "/status/{job_id}/events", "/clients", "/clients/{ref}",
                 "/clients/{ref}/strategy", "/healthz", "/readyz", "/metrics"):  # fmt: skip
        assert path in paths, path
    text = str(schema)
    assert "'422'" not in text and "HTTPValidationError" not in text
    assert paths["/generate"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/healthz"]["get"]
    assert "400" in paths["/generate"]["post"]["responses"]
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
