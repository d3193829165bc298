"""HTTP/1.1 wire helpers of the fake OpenAI-compatible server (request parsing, bodies,
server-sent events)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

REASONS = {
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

ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

MAX_BODY = 16 * 1024 * 1024


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Reply:
    status: int
    payload: bytes
    headers: str = ""  # extra header lines, each ending in CRLF
    events: list[bytes] | None = None  # server-sent events instead of a body
    drop: bool = False  # the connection is dropped after the events sent (none for a body)


def events(completion: dict[str, Any], include_usage: bool) -> list[bytes]:
    """A completion as ``chat.completion.chunk`` events, as OpenAI streams it."""
    choice = completion["choices"][0]
    base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return dump(body)

    events = [chunk({"role": "assistant", "content": ""})]
    words = choice["message"]["content"].split(" ")
    events += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words) if w]
    events.append(chunk({}, choice["finish_reason"]))
    if include_usage:
        events.append(dump({**base, "choices": [], "usage": completion["usage"]}))
    events.append(b"[DONE]")
    return events


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest("malformed request line") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return method.upper(), path, headers


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
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
            if size_total > MAX_BODY:
                raise BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise BadRequest("bad Content-Length") from exc
    if length < 0 or length > MAX_BODY:
        raise BadRequest("bad Content-Length")
    return await reader.readexactly(length) if length else b""


def prompt_text(messages: object) -> str:
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


def dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def error_body(status: int, message: str) -> bytes:
    kind, code = ERROR_KINDS.get(status, ("server_error", None))
    return dump({"error": {"message": message, "type": kind, "param": None, "code": code}})
