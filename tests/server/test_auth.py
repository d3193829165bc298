"""Bearer tokens: each 401 reason, scope (another client's things are 404 exactly like missing
ones), admin-only writes, open ops routes, and secrets that never leak."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from contentgen.client.local import LocalClient
from contentgen.errors import ConfigurationError
from contentgen.models import Client as ClientRecord
from contentgen.models import PromptRequest
from contentgen.server.app import create_app
from contentgen.server.security import TokenVerifier, create_token, parse_ttl
from contentgen.settings import Settings

from .support import SECRET, TOPIC, Token, poll_status

Caller = Callable[[str | None], httpx.AsyncClient]


def _unsigned(claims: dict[str, Any], key: str = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("authorization", "reason", "message"),
    [
        (None, "missing", "Missing bearer token"),
        ("Basic dXNlcjpwYXNz", "malformed", "Malformed authorization header"),
        ("Bearer", "malformed", "Malformed authorization header"),
        ("Bearer not-a-jwt", "malformed", "Malformed token"),
        ("Bearer a.b.c", "malformed", "Malformed token"),
    ],
)
async def test_missing_or_malformed_tokens_are_401(
    app: FastAPI, authorization: str | None, reason: str, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(f"/status/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 401
    assert response.json()["details"] == {"reason": reason}
    assert response.json()["error"].startswith(message)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    if reason == "missing":
        assert challenge == "Bearer"
    else:
        assert 'error="invalid_token"' in challenge


async def test_wrongly_signed_token_is_401(caller: Caller) -> None:
    forged = create_token("another-secret-that-is-also-long-enough!!", clients=None, admin=True)
    async with caller(forged) as client:
        response = await client.get("/clients")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token signature",
                               "details": {"reason": "bad_signature"}}  # fmt: skip
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_expired_token_is_401(caller: Caller) -> None:
    old = create_token(SECRET, clients=None, ttl_seconds=60, now=time.time() - 3600)
    async with caller(old) as client:
        response = await client.get("/clients")
    assert response.status_code == 401
    assert response.json() == {"error": "Token expired", "details": {"reason": "expired"}}


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    import contentgen.server.security as security

    verifier = TokenVerifier(SECRET)
    token = create_token(SECRET, clients=None, ttl_seconds=60)
    assert verifier.verify(f"Bearer {token}").clients is None  # checked, then remembered
    later = time.time() + 61
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(security.TokenRejected) as caught:
        verifier.verify(f"Bearer {token}")
    assert caught.value.reason == "expired"


@pytest.mark.parametrize("claims", [
    {"clients": "acme", "admin": False},
    {"clients": ["not-a-uuid"], "admin": False},
    {"clients": "*", "admin": "yes"},
    {"admin": True},
])  # fmt: skip
async def test_tokens_with_bad_claims_are_401(caller: Caller, claims: dict[str, Any]) -> None:
    token = _unsigned({"sub": "x", "iat": _now(), "exp": _now() + 60} | claims)
    async with caller(token) as client:
        response = await client.get("/clients")
    assert response.status_code == 401
    assert response.json()["details"] == {"reason": "invalid_claims"}


async def test_a_token_without_expiry_is_401(caller: Caller) -> None:
    token = _unsigned({"sub": "x", "iat": _now(), "clients": "*", "admin": True})
    async with caller(token) as client:
        response = await client.get("/clients")
    assert response.status_code == 401
    assert response.json()["details"] == {"reason": "invalid_claims"}


async def test_ops_routes_need_no_token(caller: Caller) -> None:
    async with caller(None) as client:
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
            assert (await client.get(path)).status_code == 200, path


async def test_a_client_scoped_token_sees_only_its_clients(
    caller: Caller, token: Token, local: LocalClient, acme: ClientRecord, globex: ClientRecord,
) -> None:  # fmt: skip
    theirs = await local.submit(topic=TOPIC, client="globex")
    prompt_job = await local.generate_prompt(
        PromptRequest(topic=TOPIC, content_type="blog", client_id=globex.id)
    )
    missing = uuid.uuid4()
    async with caller(token([acme.id])) as client:
        request = {"topic": TOPIC, "content_type": "blog", "client_id": "acme"}
        ours = (await client.post("/generate", json=request)).json()["job_id"]
        await poll_status(client, ours)

        listed = (await client.get("/clients")).json()["clients"]
        assert [c["name"] for c in listed] == ["acme"]
        jobs = (await client.get("/jobs")).json()["jobs"]
        assert [j["job_id"] for j in jobs] == [ours]

        # another client's job, prompt job and record answer exactly like missing ones
        for path_of in (lambda j: f"/status/{j}", lambda j: f"/status/{j}/events",
                        lambda j: f"/prompt/{j}"):  # fmt: skip
            hidden = await client.get(path_of(theirs if "prompt" not in path_of("") else
                                               prompt_job))  # fmt: skip
            absent = await client.get(path_of(missing))
            assert hidden.status_code == absent.status_code == 404
            assert hidden.json() == absent.json()
        for action in ("cancel", "retry"):
            hidden = await client.post(f"/jobs/{theirs}/{action}")
            absent = await client.post(f"/jobs/{missing}/{action}")
            assert hidden.status_code == absent.status_code == 404
            assert hidden.json() == absent.json() == {"error": "Job not found"}
        for path in ("/clients/globex", f"/clients/{globex.id}", "/clients/globex/strategy"):
            hidden = await client.get(path)
            absent = await client.get(path.replace("globex", "nobody").replace(
                str(globex.id), str(missing)))  # fmt: skip
            assert hidden.status_code == absent.status_code == 404
            assert hidden.json() == absent.json() == {"error": "Client not found"}
        hidden = await client.get("/jobs", params={"client": "globex"})
        assert hidden.status_code == 404 and hidden.json() == {"error": "Client not found"}
        for target in ("globex", "nobody", str(globex.id)):
            for path in ("/generate", "/generate-prompt"):
                refused = await client.post(path, json={"topic": TOPIC, "content_type": "blog",
                                                        "client_id": target})  # fmt: skip
                assert refused.status_code == 404
                assert refused.json() == {"error": "Client not found"}
        # the default client is a client like any other
        default = await client.post("/generate", json={"topic": TOPIC, "content_type": "blog",
                                                       "client_id": "default"})  # fmt: skip
        assert default.status_code == 404


async def test_strategy_writes_need_an_admin_token(
    caller: Caller, token: Token, acme: ClientRecord
) -> None:
    config = {"config": {"tone": {"voice": "warm"}}}
    async with caller(token([acme.id])) as client:
        refused = await client.put("/clients/acme/strategy", json=config)
        assert refused.status_code == 403
        assert set(refused.json()) == {"error", "details"}
        assert "admin" in refused.json()["error"]
    async with caller(token([acme.id], admin=True)) as client:
        stored = await client.put("/clients/acme/strategy", json=config)
        assert stored.status_code == 200
        assert stored.json()["config"]["tone"]["voice"] == "warm"


async def test_the_secret_and_tokens_never_show_in_responses_or_logs(
    caller: Caller, token: Token, acme: ClientRecord
) -> None:
    good = token(admin=True)
    forged = create_token("another-secret-that-is-also-long-enough!!", clients=None)
    texts: list[str] = []
    with capture_logs() as events:
        for value in (good, forged, None, "garbage"):
            async with caller(value) as client:
                for path in ("/clients", "/jobs", "/openapi.json", "/metrics", "/clients/acme"):
                    texts.append((await client.get(path)).text)
    logged = repr(events)
    for secret in (SECRET, good, forged):
        assert all(secret not in t for t in texts)
        assert secret not in logged


def test_the_app_refuses_a_missing_or_short_secret(
    settings: Settings, local: LocalClient
) -> None:
    with pytest.raises(ConfigurationError, match="CONTENTGEN_JWT_SECRET"):
        create_app(settings.model_copy(update={"jwt_secret": None}), local)
    from pydantic import SecretStr

    short = settings.model_copy(update={"jwt_secret": SecretStr("short")})
    with pytest.raises(ConfigurationError, match="at least 32 bytes") as caught:
        create_app(short, local)
    assert "short" not in str(caught.value).replace("shorter", "")


async def test_without_auth_every_caller_is_an_admin(
    settings: Settings, local: LocalClient, acme: ClientRecord
) -> None:
    from .support import started

    application = create_app(settings, local, auth=False, workers_in_process=0)
    async with started(application):
        transport = httpx.ASGITransport(application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/clients")).status_code == 200
            put = await client.put("/clients/acme/strategy", json={"config": {}})
            assert put.status_code == 200
            schema = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in schema["components"]


def test_ttl_parsing() -> None:
    assert parse_ttl("30d") == 30 * 86400
    assert parse_ttl("12h") == 43200 and parse_ttl("15m") == 900 and parse_ttl("90") == 90
    from contentgen.errors import InvalidInput

    for bad in ("", "0d", "soon", "-1h", "3y"):
        with pytest.raises(InvalidInput):
            parse_ttl(bad)
