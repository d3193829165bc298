"""GET /status/{job_id}/events over a real uvicorn (httpx's ASGI transport buffers bodies):
one event per status change with an id, pings, the end at a final status, and a client that
goes away never cancels the job."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx_sse import aconnect_sse

from contentgen.client.local import LocalClient
from contentgen.models import Client as ClientRecord
from contentgen.server.app import create_app
from contentgen.settings import Settings

from .support import TOPIC, GatedLLM, Token, bearer, poll_status, uvicorn_server


@pytest.fixture
def llm() -> GatedLLM:
    return GatedLLM()


@pytest.fixture
async def served(settings: Settings, local: LocalClient) -> AsyncIterator[str]:
    app = create_app(settings, local, workers_in_process=2, worker_poll=0.05,
                     watch_interval=0.02, sse_ping=0.1)  # fmt: skip
    async with uvicorn_server(app) as url:
        yield url


async def _submit(http: httpx.AsyncClient) -> str:
    response = await http.post("/generate", json={"topic": TOPIC, "content_type": "blog",
                                                  "client_id": "acme"})  # fmt: skip
    job_id: str = response.json()["job_id"]
    return job_id


async def test_events_follow_a_job_to_completed(
    served: str, token: Token, acme: ClientRecord, llm: GatedLLM
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        job_id = await _submit(http)
        events, pings = [], 0
        async with aconnect_sse(http, "GET", f"/status/{job_id}/events") as source:
            assert source.response.status_code == 200
            assert source.response.headers["cache-control"] == "no-store"
            assert source.response.headers["content-type"].startswith("text/event-stream")
            async for event in source.aiter_sse():
                if event.event != "status":
                    pings += 1  # a comment-only block (": ping")
                    continue
                events.append(event)
                if len(events) == 1:
                    await llm.entered.wait()
                    await asyncio.sleep(0.35)  # a few pings while the model "writes"
                    llm.gate.set()
    statuses = [json.loads(e.data)["status"] for e in events]
    assert statuses[-1] == "completed"
    assert statuses == sorted(set(statuses), key=statuses.index)  # one event per change
    assert set(statuses) <= {"pending", "in_progress", "completed"}
    assert [e.id for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert all(e.event == "status" for e in events)
    final = json.loads(events[-1].data)
    assert final["job_id"] == job_id and len(final["result"]["content"]) > 100
    assert pings >= 1


async def test_pings_keep_an_idle_stream_alive(
    served: str, token: Token, acme: ClientRecord, llm: GatedLLM
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        job_id = await _submit(http)
        lines: list[str] = []
        async with http.stream("GET", f"/status/{job_id}/events") as response:
            async for line in response.aiter_lines():
                lines.append(line)
                if sum(1 for x in lines if x.startswith(":")) >= 2:
                    break
        llm.gate.set()
        await poll_status(http, job_id)
    assert any(line.startswith(": ping") for line in lines), lines


async def test_a_finished_job_gives_one_event_and_ends(
    served: str, token: Token, acme: ClientRecord, llm: GatedLLM
) -> None:
    llm.gate.set()
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        job_id = await _submit(http)
        await poll_status(http, job_id)
        async with aconnect_sse(http, "GET", f"/status/{job_id}/events") as source:
            events = [e async for e in source.aiter_sse() if e.event == "status"]
    assert [(e.id, json.loads(e.data)["status"]) for e in events] == [("1", "completed")]


async def test_disconnecting_never_cancels_the_job(
    served: str, token: Token, acme: ClientRecord, llm: GatedLLM
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        job_id = await _submit(http)
        async with aconnect_sse(http, "GET", f"/status/{job_id}/events") as source:
            async for _event in source.aiter_sse():
                break  # hang up after the first event
        await llm.entered.wait()
        llm.gate.set()
        done = await poll_status(http, job_id)
    assert done["status"] == "completed"


async def test_events_of_unknown_or_hidden_jobs_are_404(
    served: str, token: Token, acme: ClientRecord, local: LocalClient, llm: GatedLLM
) -> None:
    await local.add_client("globex")
    theirs = await local.submit(topic=TOPIC, client="globex")
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        for job_id in (theirs, uuid.uuid4()):
            response = await http.get(f"/status/{job_id}/events")
            assert response.status_code == 404
            assert response.json() == {"error": "Job not found"}
    llm.gate.set()


async def test_many_subscribers_share_one_watch(
    served: str, token: Token, acme: ClientRecord, llm: GatedLLM
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=bearer(token([acme.id]))) as http:
        job_id = await _submit(http)

        async def follow() -> list[str]:
            async with aconnect_sse(http, "GET", f"/status/{job_id}/events") as source:
                return [json.loads(e.data)["status"] async for e in source.aiter_sse()
                        if e.event == "status"]  # fmt: skip

        tasks = [asyncio.create_task(follow()) for _ in range(5)]
        await llm.entered.wait()
        await asyncio.sleep(0.1)
        llm.gate.set()
        results = await asyncio.gather(*tasks)
    assert all(r[-1] == "completed" for r in results)

