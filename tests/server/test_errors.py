"""Every validation failure is 400 {error, details} naming the offending fields — bodies that
are not JSON, not objects, or too large too — never FastAPI's 422 shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contentgen.models import Client as ClientRecord
from contentgen.server.errors import MAX_BODY_BYTES

from .support import TOPIC


def _ok(**extra: Any) -> dict[str, Any]:
    return {"topic": TOPIC, "content_type": "blog", "client_id": "acme"} | extra


def _assert_400(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    data: dict[str, Any] = response.json()
    assert set(data) == {"error", "details"}
    assert isinstance(data["error"], str) and data["error"]
    assert data["details"]["field"] == field, data
    assert "detail" not in data  # FastAPI's default shape
    return data


@pytest.mark.parametrize(("body", "field", "message"), [
    (_ok(topic="hey"), "topic", "topic: must be at least 5 characters (got 3)"),
    (_ok(topic="x" * 1001), "topic", "topic: must be at least"),
    (_ok(topic="Read <script>alert(1)</script> now"), "topic", "topic: must not contain"),
    (_ok(content_type="video"), "content_type", "content_type: Input should be"),
    (_ok(keywords=[f"k{i}" for i in range(11)]), "keywords", "keywords: at most 10 keywords"),
    (_ok(keywords=["x" * 51]), "keywords", "keywords: each keyword must be at most 50"),
    (_ok(keywords="solar"), "keywords", "keywords: Input should be a valid list"),
    (_ok(length="epic"), "length", "length: Input should be"),
    (_ok(priority="vibes"), "priority", "priority: Input should be"),
    (_ok(colour="red"), "colour", "colour: Extra inputs are not permitted"),
    ({"topic": TOPIC, "content_type": "blog"}, "client_id", "client_id: Field required"),
    (_ok(topic=12345), "topic", "topic: Input should be a valid string"),
])  # fmt: skip
async def test_bad_fields_name_the_field(
    http: httpx.AsyncClient, acme: ClientRecord, body: dict[str, Any], field: str, message: str
) -> None:
    data = _assert_400(await http.post("/generate", json=body), field)
    if message.startswith("topic: must be at least") and "1001" not in message:
        assert data["error"].startswith(("topic: must be at least", "topic: must be at most"))
    else:
        assert data["error"].startswith(message), data["error"]
    assert all({"field", "message"} <= set(e) for e in data["details"]["errors"])


async def test_every_problem_is_listed(http: httpx.AsyncClient) -> None:
    data = _assert_400(await http.post("/generate", json={"content_type": "video"}), "topic")
    fields = {e["field"] for e in data["details"]["errors"]}
    assert fields == {"topic", "content_type", "client_id"}
    assert data["error"].endswith("(and 2 more problems)")


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "body: not valid JSON"),
    (b"", "body: is required"),
    (b"[1, 2]", "body: must be a JSON object"),
    (b'"a string"', "body: must be a JSON object"),
    (b"null", "body: must be a JSON object"),
    (b"\xff\xfe", "body: not valid JSON"),
])  # fmt: skip
async def test_bodies_that_are_not_json_objects(
    http: httpx.AsyncClient, raw: bytes, message: str
) -> None:
    for path in ("/generate", "/generate-prompt"):
        response = await http.post(path, content=raw,
                                   headers={"Content-Type": "application/json"})  # fmt: skip
        assert _assert_400(response, "body")["error"] == message


async def test_a_body_too_large_is_refused_before_parsing(http: httpx.AsyncClient) -> None:
    huge = json.dumps(_ok(topic="x" * (MAX_BODY_BYTES + 10))).encode()
    data = _assert_400(await http.post("/generate", content=huge,
                                       headers={"Content-Type": "application/json"}), "body")
    assert data["details"]["max_bytes"] == MAX_BODY_BYTES
    assert data["error"] == f"body: larger than {MAX_BODY_BYTES} bytes"


async def test_a_chunked_body_too_large_is_refused_too(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b" " * 4096

    response = await http.post("/generate", content=chunks(),
                               headers={"Content-Type": "application/json"})  # fmt: skip
    _assert_400(response, "body")


async def test_a_false_content_length_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/generate", content=b"{}",
                               headers={"Content-Length": "abc"})  # fmt: skip
    _assert_400(response, "body")


async def test_unknown_routes_and_methods_keep_the_error_shape(http: httpx.AsyncClient) -> None:
    missing = await http.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = await http.delete("/generate")
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    assert wrong.headers["allow"] == "POST"
    both = await http.delete("/clients/acme/strategy")
    assert both.status_code == 405 and both.headers["allow"] == "GET, PUT"


async def test_unknown_query_parameters_are_refused(
    http: httpx.AsyncClient, acme: ClientRecord
) -> None:
    typo = await http.get("/jobs", params={"statu": "failed"})
    data = _assert_400(typo, "statu")
    assert data["error"].startswith("statu: unknown query parameter (allowed: client, cursor")
    none = await http.get("/clients", params={"x": "1"})
    assert _assert_400(none, "x")["error"] == "x: unknown query parameter (none allowed)"
    assert (await http.get("/jobs", params={"status": "failed"})).status_code == 200
    status = await http.get(f"/status/{uuid.uuid4()}", params={"verbose": "1"})
    assert _assert_400(status, "verbose")["error"].startswith("verbose: unknown query")
