"""RemoteClient at the network edge (httpx.MockTransport): what it retries and how long it
waits, how server errors become the local client's errors, and wait's fallback to polling."""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from contentgen.client.base import open_client
from contentgen.client.local import LocalClient
from contentgen.client.remote import RemoteClient
from contentgen.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    JobNotFound,
    RemoteError,
)
from contentgen.settings import Settings

TOPIC = "Solar energy benefits for small offices"
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> tuple[RemoteClient, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = RemoteClient("http://server.test", token="tok", retry_wait=0.25,
                          transport=httpx.MockTransport(handler))  # fmt: skip
    client.sleep = sleep
    return client, slept


def _job_body(job_id: str, status: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"job_id": job_id, "status": status, "created_at": now, "updated_at": now,
            "params": {"topic": TOPIC, "content_type": "blog", "client_id": str(uuid.uuid4())},
            "strategy_version": None, "template_version": None}  # fmt: skip


def _answers(*replies: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return handler, seen


async def test_connection_failures_are_retried_for_any_method() -> None:
    job_id = str(uuid.uuid4())
    handler, seen = _answers(httpx.ConnectError("refused"), httpx.ConnectError("refused"),
                             httpx.Response(200, json={"job_id": job_id}))  # fmt: skip
    client, slept = _client(handler)
    assert str(await client.submit(topic=TOPIC, client="acme")) == job_id
    assert [r.method for r in seen] == ["POST"] * 3
    assert len(slept) == 2 and all(0 < s <= 10 for s in slept)
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert json.loads(seen[0].content)["client_id"] == "acme"


async def test_429_waits_as_long_as_retry_after_says() -> None:
    job_id = str(uuid.uuid4())
    when = email.utils.format_datetime(datetime.fromtimestamp(time.time() + 30, UTC),
                                       usegmt=True)  # fmt: skip
    handler, seen = _answers(
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow down"}),
        httpx.Response(429, headers={"Retry-After": when}, json={"error": "slow down"}),
        httpx.Response(200, json={"job_id": job_id}),
    )
    client, slept = _client(handler)
    await client.submit(topic=TOPIC, client="acme")
    assert len(seen) == 3
    assert slept[0] == 7.0 and 25 < slept[1] <= 30


async def test_server_errors_are_retried_for_reads_only() -> None:
    job_id = str(uuid.uuid4())
    handler, seen = _answers(httpx.Response(502, text="bad gateway"),
                             httpx.Response(500, json={"error": "Internal server error"}),
                             httpx.Response(200, json=_job_body(job_id, "pending")))  # fmt: skip
    client, _ = _client(handler)
    assert (await client.status(job_id)).status.value == "pending"
    assert len(seen) == 3

    handler, seen = _answers(httpx.Response(500, json={"error": "Internal server error"}))
    client, _ = _client(handler)
    with pytest.raises(RemoteError) as caught:
        await client.submit(topic=TOPIC, client="acme")
    assert len(seen) == 1 and caught.value.status == 500
    assert "Internal server error" in caught.value.message


async def test_a_post_whose_answer_timed_out_is_not_sent_again() -> None:
    handler, seen = _answers(httpx.ReadTimeout("slow"))
    client, _ = _client(handler)
    with pytest.raises(RemoteError, match="did not answer in time"):
        await client.submit(topic=TOPIC, client="acme")
    assert len(seen) == 1


async def test_retries_give_up_with_the_last_answer() -> None:
    handler, seen = _answers(httpx.Response(503, json={"error": "database unreachable"}))
    client, slept = _client(handler)
    with pytest.raises(RemoteError) as caught:
        await client.list_clients()
    assert len(seen) == client.retries and len(slept) == client.retries - 1
    assert caught.value.status == 503 and "database unreachable" in caught.value.message


@pytest.mark.parametrize(("status", "body", "kind", "check"), [
    (401, {"error": "Token expired", "details": {"reason": "expired"}}, AuthError,
     lambda e: e.reason == "expired" and "Token expired" in e.message),
    (403, {"error": "this needs an admin token"}, Forbidden, lambda e: "admin" in e.message),
    (409, {"error": "job is completed", "details": {"status": "completed"}}, Conflict,
     lambda e: e.details["status"] == "completed"),
    (400, {"error": "topic: too short", "details": {"field": "topic", "errors": [1]}},
     InvalidInput, lambda e: e.field == "topic" and e.details["errors"] == [1]),
    (404, {"error": "Job not found"}, JobNotFound, lambda e: True),
    (418, "not json", RemoteError, lambda e: e.status == 418),
])  # fmt: skip
async def test_server_errors_become_the_local_clients_errors(
    status: int, body: Any, kind: type[Exception], check: Callable[[Any], bool]
) -> None:
    reply = (httpx.Response(status, json=body) if isinstance(body, dict)
             else httpx.Response(status, text=body))  # fmt: skip
    handler, _ = _answers(reply)
    client, _ = _client(handler)
    with pytest.raises(kind) as caught:
        await client.cancel(uuid.uuid4())
    assert check(caught.value)


async def test_an_id_prefix_is_refused_before_any_request() -> None:
    handler, seen = _answers(httpx.Response(200, json={}))
    client, _ = _client(handler)
    with pytest.raises(InvalidInput, match="whole job id"):
        await client.status("1a2b3c4d")
    with pytest.raises(JobNotFound):
        await client.status("not an id at all")
    assert seen == []


async def test_wait_polls_when_the_event_stream_fails() -> None:
    job_id = str(uuid.uuid4())
    polls = iter(["pending", "in_progress", "completed"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return httpx.Response(502, text="proxy says no")
        return httpx.Response(200, json=_job_body(job_id, next(polls)))

    client, _ = _client(handler)
    job = await client.wait(job_id, poll=0.001, timeout=5)
    assert job.status.value == "completed"


async def test_wait_reads_the_event_stream() -> None:
    job_id = str(uuid.uuid4())
    events = "".join(
        f"event: status\nid: {i}\ndata: {json.dumps(_job_body(job_id, s))}\n\n"
        for i, s in enumerate(["pending", "in_progress", "completed"], 1)
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, text=": ping\n\n" + events,
                              headers={"Content-Type": "text/event-stream"})  # fmt: skip

    client, _ = _client(handler)
    job = await client.wait(job_id, timeout=5)
    assert job.status.value == "completed" and seen == [f"/status/{job_id}/events"]


def test_open_client_picks_remote_only_with_a_server_url(tmp_path: Path) -> None:
    local = open_client(Settings(home=tmp_path))
    assert isinstance(local, LocalClient)
    remote = open_client(Settings(home=tmp_path, server_url="http://127.0.0.1:9/",
                                  token=SecretStr("t")))  # fmt: skip
    assert isinstance(remote, RemoteClient) and remote.base_url == "http://127.0.0.1:9"
