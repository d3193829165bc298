"""The reference's IM contract: POST /generate-prompt -> {job_id}; GET /prompt/{job_id} ->
prompt + metadata when completed, {status, error?} otherwise."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from contentgen.client.local import LocalClient
from contentgen.models import Client as ClientRecord

from .support import TOPIC


async def _prompt_when_done(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        body: dict[str, Any] = (await http.get(f"/prompt/{job_id}")).json()
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.01)
    raise AssertionError("prompt job did not finish")


async def test_generate_prompt_then_get_it(http: httpx.AsyncClient, acme: ClientRecord) -> None:
    response = await http.post("/generate-prompt", json={
        "topic": TOPIC, "content_type": "social", "client_id": "acme", "keywords": ["solar"],
    })  # fmt: skip
    assert response.status_code == 200 and set(response.json()) == {"job_id"}
    body = await _prompt_when_done(http, response.json()["job_id"])
    assert TOPIC in body["prompt"]
    assert set(body["metadata"]) == {"client_id", "content_type", "keywords",
                                     "template_version", "refined", "strategy_version"}  # fmt: skip
    assert body["metadata"]["client_id"] == str(acme.id)
    assert body["metadata"]["content_type"] == "social"
    assert body["metadata"]["keywords"] == ["solar"]
    assert "error" not in body


async def test_a_prompt_not_built_yet_answers_its_status(
    http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord
) -> None:
    from contentgen.models import PromptJob, PromptRequest

    job = await local.storage.save_prompt_job(
        PromptJob(params=PromptRequest(topic=TOPIC, content_type="blog", client_id=acme.id))
    )
    body = (await http.get(f"/prompt/{job.id}")).json()
    assert body["status"] == "pending"
    assert "prompt" not in body and "metadata" not in body and "error" not in body


async def test_a_failed_prompt_job_answers_status_and_error(
    http: httpx.AsyncClient, local: LocalClient, acme: ClientRecord
) -> None:
    from contentgen.models import JobStatus, PromptJob, PromptRequest

    job = await local.storage.save_prompt_job(PromptJob(
        params=PromptRequest(topic=TOPIC, content_type="blog", client_id=acme.id),
        status=JobStatus.FAILED, error="template: line 3: unknown variable 'x'",
    ))  # fmt: skip
    body = (await http.get(f"/prompt/{job.id}")).json()
    assert body["status"] == "failed" and body["error"].startswith("template:")
    assert "prompt" not in body


async def test_unknown_prompt_jobs_are_404(http: httpx.AsyncClient) -> None:
    for job_id in (str(uuid.uuid4()), "nope"):
        response = await http.get(f"/prompt/{job_id}")
        assert response.status_code == 404
        assert response.json() == {"error": "Prompt job not found"}


async def test_generate_prompt_validates_like_generate(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    response = await http.post("/generate-prompt", json={
        "topic": "hi", "content_type": "blog", "client_id": "acme",
    })  # fmt: skip
    assert response.status_code == 400
    assert response.json()["details"]["field"] == "topic"
    unknown = await http.post("/generate-prompt", json={
        "topic": TOPIC, "content_type": "blog", "client_id": "nobody",
    })  # fmt: skip
    assert unknown.status_code == 404 and unknown.json() == {"error": "Client not found"}
    extra = await http.post("/generate-prompt", json={
        "topic": TOPIC, "content_type": "blog", "client_id": "acme", "priority": "cost",
    })  # fmt: skip
    assert extra.status_code == 400 and extra.json()["details"]["field"] == "priority"
