"""A small OpenAI-compatible HTTP server for tests and benchmarks.

Plain ``asyncio.start_server`` and HTTP/1.1 with keep-alive (https with ``tls=``): it answers
``POST /v1/chat/completions`` (and ``/chat/completions``) with a real ``chat.completion`` JSON
body, or with server-sent ``chat.completion.chunk`` events when the request says ``stream``
(a last chunk with ``usage`` when ``stream_options.include_usage``, then ``[DONE]``), and
``GET /v1/models``. It can wait a fixed ``delay`` before answering, reply with a fixed text
(default: a Markdown article built from the prompt), report fixed usage (default: word
counts; ``cached_tokens``/``reasoning_tokens`` in the usage details), and inject the faults a
real service shows (``openai_faults.py``), for the next N requests or for one model only::

    async with FakeOpenAIServer(delay=0.05) as server:
        settings = Settings(api_base=server.base_url, retry_wait=0)
        server.fail_next(2, 500)                    # HTTP errors (OpenAI-style error body)
        server.fail_next(1, 429, retry_after=1)     # with a Retry-After header
        server.hang_next(1)                         # no answer (a client timeout)
        server.malformed_next(1)                    # 200 with a body that is not JSON
        server.empty_next(1)                        # 200 with empty content
        server.truncate_next(1)                     # finish_reason "length", text cut
        server.drop_next(1)                         # connection dropped mid-reply
        server.fail_model("gpt-4o", 500)            # every request for that model fails
        ...
        assert server.requests == 3 and server.requests_by_model["gpt-4o-mini"] == 3

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
from collections import Counter, deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

from contentgen.llm.fake import article_from_prompt
from contentgen.testing._wire import (
    REASONS,
    BadRequest,
    Reply,
    dump,
    error_body,
    events,
    parse_head,
    prompt_text,
    read_body,
)
from contentgen.testing.openai_faults import Fault, FaultInjection, FaultKind

ReplyFn = Callable[[str], str]
#: Usage as a function of the request's JSON body, e.g. a model that uses all its max_tokens.
UsageFn = Callable[[dict[str, Any]], tuple[int, int]]


class FakeOpenAIServer(FaultInjection):
    """An OpenAI-compatible chat server on loopback; see the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        reply: str | ReplyFn | None = None,
        usage: tuple[int, int] | UsageFn | None = None,
        models: tuple[str, ...] = ("gpt-4o-mini",),
        tls: ssl.SSLContext | None = None,
        reuse_port: bool = False,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> None:
        self.host = host
        self.tls = tls
        self.port = port
        #: Seconds to wait before each answer (may be changed while running).
        self.delay = delay
        #: Fixed reply text, or a function of the prompt; None: ``article_from_prompt``.
        self.reply = reply
        #: Fixed ``(prompt_tokens, completion_tokens)``, or a function of the request; None:
        #: word counts.
        self.usage = usage
        self.models = models
        self.reuse_port = reuse_port
        #: Reported in ``usage.prompt_tokens_details`` / ``completion_tokens_details``.
        self.cached_tokens = cached_tokens
        self.reasoning_tokens = reasoning_tokens
        #: Number of HTTP requests answered or failed (any path).
        self.requests = 0
        #: Chat requests per requested model name, faults included.
        self.requests_by_model: Counter[str] = Counter()
        #: Models whose every request fails with this status (``fail_model``).
        self.failing_models: dict[str, int] = {}
        #: JSON body and headers (lower-cased names) of the last chat request.
        self.last_request: dict[str, Any] | None = None
        self.last_headers: dict[str, str] = {}
        self._faults: deque[Fault] = deque()
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
            self._handle, self.host, self.port, reuse_address=True, backlog=1024, ssl=self.tls,
            reuse_port=self.reuse_port or None,
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
                    method, path, headers = parse_head(head)
                    body = await read_body(reader, headers)
                except BadRequest as exc:
                    self._write(writer, 400, error_body(400, str(exc)), keep_alive=False, extra="")
                    await writer.drain()
                    return
                keep_alive = headers.get("connection", "").lower() != "close"
                reply = await self._respond(method, path, headers, body)
                if reply.drop and reply.events is None:
                    writer.transport.abort()  # no answer: the connection is reset
                    return
                if reply.events is not None:
                    await self._writeevents(writer, reply, keep_alive=keep_alive)
                else:
                    self._write(writer, reply.status, reply.payload, keep_alive=keep_alive,
                                extra=reply.headers)  # fmt: skip
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
    ) -> Reply:
        self.requests += 1
        path = path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            if method != "GET":
                return Reply(405, error_body(405, f"{method} not allowed on {path}"))
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "contentgen"}
                for m in self.models
            ]
            return Reply(200, dump({"object": "list", "data": data}))
        if path not in ("/v1/chat/completions", "/chat/completions"):
            return Reply(404, error_body(404, f"Unknown path {path}"))
        if method != "POST":
            return Reply(405, error_body(405, f"{method} not allowed on {path}"))
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise ValueError("body is not a JSON object")
        except ValueError as exc:
            return Reply(400, error_body(400, f"Invalid JSON body: {exc}"))
        self.last_request = request
        self.last_headers = headers
        model = str(request.get("model", "unknown"))
        self.requests_by_model[model] += 1
        fault = self._take_fault(model)
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            extra = ""
            if fault.retry_after is not None:
                extra = f"Retry-After: {fault.retry_after:g}\r\n"
            return Reply(fault.status, error_body(fault.status, fault.message), extra)
        if fault is not None and fault.kind == "malformed":
            return Reply(200, b"<html><body>502 Bad Gateway (upstream)</body></html>")
        completion = self._completion(request, fault.kind if fault is not None else None)
        drop = fault is not None and fault.kind == "drop"
        if request.get("stream"):
            options = request.get("stream_options") or {}
            sent = events(completion, bool(options.get("include_usage")))
            return Reply(200, b"", events=sent[: len(sent) // 2] if drop else sent, drop=drop)
        return Reply(200, dump(completion), drop=drop)

    def _completion(self, request: dict[str, Any], fault: FaultKind | None) -> dict[str, Any]:
        prompt = prompt_text(request.get("messages"))
        if self.reply is None:
            text = article_from_prompt(prompt)
        elif isinstance(self.reply, str):
            text = self.reply
        else:
            text = self.reply(prompt)
        finish = "stop"
        if fault == "empty":
            text = ""
        elif fault == "length":
            words = text.split(" ")
            text, finish = " ".join(words[: max(1, len(words) // 2)]), "length"
        if callable(self.usage):
            prompt_tokens, completion_tokens = self.usage(request)
        elif self.usage is not None:
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
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
                "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            },
        }

    async def _writeevents(
        self, writer: asyncio.StreamWriter, reply: Reply, *, keep_alive: bool
    ) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        writer.write(head.encode("ascii"))
        for event in reply.events or ():
            data = b"data: " + event + b"\n\n"
            writer.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
            await writer.drain()
        if reply.drop:  # mid-stream: no end of the body, the connection goes
            writer.transport.abort()
            raise ConnectionResetError("dropped mid-reply (fault)")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, status: int, payload: bytes, *, keep_alive: bool, extra: str
    ) -> None:
        kind = "application/json" if payload[:1] in (b"{", b"[") else "text/html"
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: {kind}\r\n{extra}"
            f"Content-Length: {len(payload)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        writer.write(head.encode("ascii") + payload)


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
