"""A small OpenAI-compatible HTTP server for tests and benchmarks.

Plain ``asyncio.start_server`` and HTTP/1.1 with keep-alive: it answers
``POST /v1/chat/completions`` (and ``/chat/completions``) with a real ``chat.completion``
JSON body, and ``GET /v1/models``. It can wait a fixed ``delay`` before answering, reply with a
fixed text (default: a Markdown article built from the prompt), report fixed usage (default:
word counts), and answer the next N requests with an OpenAI-style error::

    async with FakeOpenAIServer(delay=0.05) as server:
        settings = Settings(api_base=server.base_url, retry_wait=0)
        server.fail_next(2, 500)
        ...
        assert server.requests == 3

For synchronous tests (Typer's ``CliRunner``) ``run_in_thread()`` runs it on its own event
loop in a daemon thread. As a process, for benchmarks::

    python -m contentgen.testing.openai_server --port 8099 --delay 0.05
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from contentgen.llm.fake import article_from_prompt

ReplyFn = Callable[[str], str]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str


class _BadRequest(Exception):
    pass


class FakeOpenAIServer:
    """An OpenAI-compatible chat server on loopback; see the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        reply: str | ReplyFn | None = None,
        usage: tuple[int, int] | None = None,
        models: tuple[str, ...] = ("gpt-4o-mini",),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.tls = tls
        self.port = port
        #: Seconds to wait before each answer (may be changed while running).
        self.delay = delay
        #: Fixed reply text, or a function of the prompt; None: ``article_from_prompt``.
        self.reply = reply
        #: Fixed ``(prompt_tokens, completion_tokens)``; None: word counts.
        self.usage = usage
        self.models = models
        #: Number of HTTP requests answered or failed (any path).
        self.requests = 0
        #: JSON body and headers (lower-cased names) of the last chat request.
        self.last_request: dict[str, Any] | None = None
        self.last_headers: dict[str, str] = {}
        self._failures: deque[_Failure] = deque()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._ids = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``; valid once started."""
        if self._server is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}/v1"

    async def start(self) -> str:
        """Listen (``port=0`` picks a free port) and return the base URL."""
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True, backlog=1024, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def fail_next(self, n: int, status: int = 500, message: str | None = None) -> None:
        """Answer the next ``n`` chat requests with HTTP ``status`` and an OpenAI error body."""
        text = message or f"The server had an error while processing your request ({status})"
        for _ in range(n):
            self._failures.append(_Failure(status, text))

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                try:
                    method, path, headers = _parse_head(head)
                    body = await _read_body(reader, headers)
                except _BadRequest as exc:
                    self._write(writer, 400, _error_body(400, str(exc)), keep_alive=False)
                    await writer.drain()
                    return
                keep_alive = headers.get("connection", "").lower() != "close"
                status, payload = await self._respond(method, path, headers, body)
                self._write(writer, status, payload, keep_alive=keep_alive)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        self.requests += 1
        path = path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            if method != "GET":
                return 405, _error_body(405, f"{method} not allowed on {path}")
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "contentgen"}
                for m in self.models
            ]
            return 200, _dump({"object": "list", "data": data})
        if path not in ("/v1/chat/completions", "/chat/completions"):
            return 404, _error_body(404, f"Unknown path {path}")
        if method != "POST":
            return 405, _error_body(405, f"{method} not allowed on {path}")
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise ValueError("body is not a JSON object")
        except ValueError as exc:
            return 400, _error_body(400, f"Invalid JSON body: {exc}")
        self.last_request = request
        self.last_headers = headers
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if self._failures:
            failure = self._failures.popleft()
            return failure.status, _error_body(failure.status, failure.message)
        return 200, _dump(self._completion(request))

    def _completion(self, request: dict[str, Any]) -> dict[str, Any]:
        prompt = _prompt_text(request.get("messages"))
        if self.reply is None:
            text = article_from_prompt(prompt)
        elif isinstance(self.reply, str):
            text = self.reply
        else:
            text = self.reply(prompt)
        if self.usage is not None:
            prompt_tokens, completion_tokens = self.usage
        else:
            prompt_tokens, completion_tokens = len(prompt.split()), len(text.split())
        self._ids += 1
        return {
            "id": f"chatcmpl-fake{self._ids:08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(request.get("model", "unknown")),
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, status: int, payload: bytes, *, keep_alive: bool
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        writer.write(head.encode("ascii") + payload)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise _BadRequest("malformed request line") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(f"malformed header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return method.upper(), path, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        size_total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # the empty trailer
                return b"".join(chunks)
            size_total += size
            if size_total > _MAX_BODY:
                raise _BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise _BadRequest("bad Content-Length") from exc
    if length < 0 or length > _MAX_BODY:
        raise _BadRequest("bad Content-Length")
    return await reader.readexactly(length) if length else b""


def _prompt_text(messages: object) -> str:
    if not isinstance(messages, list):
        return ""
    parts = []
    for message in messages:
        if isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _error_body(status: int, message: str) -> bytes:
    kind, code = _ERROR_KINDS.get(status, ("server_error", None))
    return _dump({"error": {"message": message, "type": kind, "param": None, "code": code}})


# -- running it outside the test's event loop ---------------------------------------------


@contextlib.contextmanager
def run_in_thread(**options: Any) -> Iterator[FakeOpenAIServer]:
    """Run a ``FakeOpenAIServer(**options)`` on its own loop in a daemon thread.

    For synchronous tests; yields the started server (``server.base_url``). Counters and
    ``fail_next`` may be used from the calling thread.
    """
    server = FakeOpenAIServer(**options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    error: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            error.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
    thread.start()
    started.wait()
    if error:
        thread.join()
        loop.close()
        raise error[0]
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


if __name__ == "__main__":
    from contentgen.testing.serve import main

    main()
