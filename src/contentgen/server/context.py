"""Per-request context: a request id (the caller's ``X-Request-ID`` if it is sane, else a
per-process prefix and a counter) bound to every log event of the request and echoed in the
response, and one ``request`` log event with method, path, status and duration."""

from __future__ import annotations

import itertools
import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentgen import logs

log = logs.get_logger("contentgen.server")

_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # process prefix + counter: unique per server, and no random bytes per request
        self._prefix = os.urandom(4).hex()
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value if _SANE_ID.match(value) else b""
                break
        rid = request_id.decode() if request_id else f"{self._prefix}-{next(self._counter)}"
        structlog.contextvars.bind_contextvars(request_id=rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode())]  # fmt: skip
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if logs.enabled("info"):
                log.info("request", method=scope["method"], path=scope["path"], status=status,
                         duration_ms=round((time.perf_counter() - started) * 1000, 2))  # fmt: skip
            structlog.contextvars.clear_contextvars()
