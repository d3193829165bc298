"""A minimal HTTP/1.1 keep-alive client for plain ``http://`` OpenAI-compatible servers.

Why it exists: a batch against a local server (vLLM, llama.cpp, Ollama, the fake server)
makes hundreds of calls a second, and ``httpx.AsyncClient`` spends about 1 ms of CPU per call
here (MEASUREMENTS.md) — on a 2-core machine that alone costs ~10% over the ideal wall time.
This client is one ``asyncio.Protocol`` per connection and a LIFO pool of idle connections:
one ``write`` and one parse per call, no per-request objects beyond the reply.

It does only what ``OpenAICompatBackend`` needs: ``POST`` a JSON body, read a
``Content-Length``, chunked or read-until-close reply, keep connections alive unless the
server says ``Connection: close``. ``https://``, proxies and anything else go through httpx
(``usable_for``). Failures are raised as the httpx exceptions httpx would raise
(``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``, ``RemoteProtocolError``,
``ReadError``), so retries and error messages are the same on both paths.
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import cast
from urllib.parse import urlsplit

import httpx

_MAX_HEAD = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024


def usable_for(url: str) -> bool:
    """True for a plain ``http://`` URL that no proxy setting applies to."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username or parts.password:
        return False
    proxies = urllib.request.getproxies()
    if not (proxies.get("http") or proxies.get("all")):
        return True
    return bool(urllib.request.proxy_bypass(parts.hostname))


class _Reply:
    """Parses one response out of the bytes received so far."""

    __slots__ = ("body", "keep_alive", "status")

    def __init__(self, status: int, body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.body = body
        self.keep_alive = keep_alive


def _parse(buffer: bytearray, *, eof: bool) -> tuple[_Reply, int] | None:
    """``(reply, bytes consumed)`` once ``buffer`` holds a whole response, else None.

    Raises ``httpx.RemoteProtocolError`` for a malformed response."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        if len(buffer) > _MAX_HEAD:
            raise httpx.RemoteProtocolError("response head too large")
        return None
    lines = bytes(buffer[:head_end]).decode("latin-1").split("\r\n")
    try:
        version, code = lines[0].split(" ", 2)[:2]
        status = int(code)
    except ValueError as exc:
        raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}") from exc
    if not version.startswith("HTTP/1."):
        raise httpx.RemoteProtocolError(f"unsupported protocol {version[:20]!r}")
    length: int | None = None
    chunked = False
    keep_alive = version == "HTTP/1.1"
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
        name = name.strip().lower()
        if name == "content-length":
            try:
                length = int(value)
            except ValueError as exc:
                raise httpx.RemoteProtocolError("bad Content-Length") from exc
            if length < 0 or length > _MAX_BODY:
                raise httpx.RemoteProtocolError("bad Content-Length")
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            tokens = value.lower()
            if "close" in tokens:
                keep_alive = False
            elif "keep-alive" in tokens:
                keep_alive = True
    start = head_end + 4
    if status in (204, 304) or 100 <= status < 200:
        return _Reply(status, b"", keep_alive), start
    if chunked:
        return _parse_chunked(buffer, start, status, keep_alive)
    if length is not None:
        if len(buffer) - start < length:
            return None
        return _Reply(status, bytes(buffer[start : start + length]), keep_alive), start + length
    if not eof:  # no length: the body ends when the server closes
        return None
    return _Reply(status, bytes(buffer[start:]), False), len(buffer)


def _parse_chunked(
    buffer: bytearray, pos: int, status: int, keep_alive: bool
) -> tuple[_Reply, int] | None:
    parts: list[bytes] = []
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buffer[pos:line_end]).split(b";", 1)[0].strip() or b"0", 16)
        except ValueError as exc:
            raise httpx.RemoteProtocolError("malformed chunk size") from exc
        pos = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", pos - 2)
            if trailer_end < 0:
                return None
            return _Reply(status, b"".join(parts), keep_alive), trailer_end + 4
        if len(buffer) < pos + size + 2:
            return None
        parts.append(bytes(buffer[pos : pos + size]))
        pos += size + 2


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[_Reply] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses (they have its methods)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is not None:
            self._deliver(eof=False)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._buffer:
                self._deliver(eof=True)
            if not self._waiter.done():
                if self._buffer:
                    error: Exception = httpx.RemoteProtocolError(
                        "server disconnected in the middle of a response"
                    )
                elif exc is not None:
                    error = httpx.ReadError(str(exc) or type(exc).__name__)
                else:
                    error = httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                self._waiter.set_exception(error)

    def _deliver(self, *, eof: bool) -> None:
        waiter = self._waiter
        assert waiter is not None
        if waiter.done():
            return
        while True:
            try:
                parsed = _parse(self._buffer, eof=eof)
            except httpx.RemoteProtocolError as exc:
                waiter.set_exception(exc)
                return
            if parsed is None:
                return
            reply, used = parsed
            del self._buffer[:used]
            if not 100 <= reply.status < 200:  # an interim 1xx reply: the real one follows
                waiter.set_result(reply)
                return

    async def exchange(self, request: bytes, timeout: float) -> _Reply:
        """Send ``request`` and wait for the whole reply (``ReadTimeout`` after ``timeout``)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Reply] = loop.create_future()
        self._waiter = waiter
        self._buffer.clear()
        timer = loop.call_later(timeout, _expire, waiter, timeout)
        try:
            self.transport.write(request)
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[_Reply], timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout(f"no response within {timeout:g} s"))


class Http1Pool:
    """Keep-alive connections to one ``http://host:port``; ``post`` sends one request."""

    def __init__(
        self, base_url: str, headers: dict[str, str], *, timeout: float, max_connections: int
    ) -> None:
        parts = urlsplit(base_url)
        assert parts.scheme == "http" and parts.hostname
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path.rstrip("/")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"Host: {host_header}", "Content-Type: application/json",
                 "User-Agent: contentgen"]  # fmt: skip
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._head = "\r\n".join(lines)
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` (JSON) to ``base path + path``; returns ``(status, body)``."""
        request = (
            f"POST {self._path}{path} HTTP/1.1\r\n{self._head}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        async with self._slots:
            conn = self._idle_connection() or await self._connect()
            self._busy.add(conn)
            try:
                reply = await conn.exchange(request, self._timeout)
            except BaseException:
                conn.close()  # state unknown (timeout, cancel, broken reply): never reuse
                raise
            finally:
                self._busy.discard(conn)
            if reply.keep_alive and not conn.closed:
                self._idle.append(conn)
            else:
                conn.close()
            return reply.status, reply.body

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()  # most recently used first: least likely to be stale
            if not conn.closed:
                return conn
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                _transport, conn = await loop.create_connection(
                    _Connection, self._host, self._port
                )
        except TimeoutError as exc:
            where = f"{self._host}:{self._port}"
            raise httpx.ConnectTimeout(f"connecting to {where} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return conn

    async def aclose(self) -> None:
        for conn in [*self._idle, *self._busy]:
            conn.close()
        self._idle.clear()
        self._busy.clear()
        await asyncio.sleep(0)  # let the transports finish closing
