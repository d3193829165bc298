"""Every error the server answers is ``{"error": MESSAGE, "details": {...}}`` (the reference's
400 shape), with the reference's exact 404 body for a job: ``{"error": "Job not found"}``.

Validation failures of any kind — a field out of range, a body that is not JSON, not an
object, or too large — are 400 with the offending fields in ``details`` (never FastAPI's 422).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentgen.errors import (
    ClientNotFound,
    ContentgenError,
    JobNotFound,
    PromptJobNotFound,
)
from contentgen.logs import get_logger
from contentgen.server.security import TokenRejected

log = get_logger()

#: Bodies larger than this are refused (400) before anything parses them.
MAX_BODY_BYTES = 256 * 1024

_NOT_FOUND = {
    JobNotFound: "Job not found",
    PromptJobNotFound: "Prompt job not found",
    ClientNotFound: "Client not found",
}


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return body


def error_response(
    status: int, message: str, details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    return JSONResponse(error_body(message, details), status_code=status, headers=headers)


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    """Details as JSON-safe data (anything odd becomes its string form)."""
    return dict(json.loads(json.dumps(details, default=str)))


def contentgen_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContentgenError)
    for kind, message in _NOT_FOUND.items():
        if isinstance(exc, kind):
            return error_response(404, message)
    details = {k: v for k, v in exc.details.items() if v is not None}
    if exc.status_code >= 500:
        log.error("request_failed", error=exc.message, error_type=type(exc).__name__)
    return error_response(exc.status_code, exc.message, _plain(details))


def token_rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TokenRejected)
    challenge = "Bearer" if exc.reason == "missing" else (
        f'Bearer error="invalid_token", error_description="{exc.message}"'
    )  # fmt: skip
    return error_response(401, exc.message, {"reason": exc.reason},
                          headers={"WWW-Authenticate": challenge})  # fmt: skip


def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where = loc[0] if loc else "body"
        path = ".".join(loc[1:])
        kind = e.get("type", "")
        if kind == "json_invalid":
            message = "not valid JSON"
            field = "body"
        elif where == "body" and not path:
            field = "body"
            message = (
                "must be a JSON object" if kind in ("model_attributes_type", "dict_type")
                else "is required" if kind == "missing" else str(e.get("msg"))
            )  # fmt: skip
        else:
            field = path or where
            message = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append({"field": field, "in": where, "message": message})
    first = problems[0] if problems else {"field": "body", "message": "invalid"}
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    return error_response(400, f"{first['field']}: {first['message']}{suffix}",
                          {"field": first["field"], "errors": problems})  # fmt: skip


def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every documented method at this path (Starlette names only the first route's, and a
    path here has one route per method)."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in item}
    return sorted(methods)


def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("request_crashed", error_type=type(exc).__name__, exc_info=exc)
    return error_response(500, "Internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ContentgenError, contentgen_error)
    app.add_exception_handler(TokenRejected, token_rejected)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with the 400 error shape, counting what
    arrives (a missing or false ``Content-Length`` does not get past it)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            400, f"body: larger than {self.limit} bytes",
            {"field": "body", "max_bytes": self.limit},
        )  # fmt: skip
        await response(scope, receive, send)
