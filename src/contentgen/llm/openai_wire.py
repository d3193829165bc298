"""What the OpenAI chat completions wire says, read without a session.

Model names on the wire, the server's ``Retry-After``, the error kind of an HTTP status and the
message of an error body, and the text, usage and finish reason of a ``chat.completion`` body.
``openai_compat`` (the backend) and ``litellm_backend`` use them.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from contentgen.errors import ProviderErrorKind

MAX_ERROR_TEXT = 300


def wire_model(model: str) -> str:
    """The model name sent to the server: ``openai/gpt-4o-mini`` -> ``gpt-4o-mini``.

    Only the ``openai/`` prefix is removed: other slashes belong to names such as vLLM's
    ``meta-llama/Llama-3.1-8B-Instruct``.
    """
    return model.removeprefix("openai/")


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``Retry-After`` seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def kind_of_status(status: int) -> ProviderErrorKind:
    if status == 429:
        return "rate_limit"
    if status in (401, 403):
        return "auth"
    if status == 408:
        return "timeout"
    if 400 <= status < 500:
        return "bad_request"
    return "server"


def server_message(status: int, body: bytes) -> str:
    """The error message of an OpenAI-style error body, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:MAX_ERROR_TEXT].strip() or _reason(status)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:MAX_ERROR_TEXT]
        if isinstance(error, str):
            return error[:MAX_ERROR_TEXT]
        if data.get("message"):
            return str(data["message"])[:MAX_ERROR_TEXT]
    return str(data)[:MAX_ERROR_TEXT]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"status {status}"


class ResponseUsage:
    """The token counts and finish reason of one response, filled as it is read."""

    __slots__ = ("cached", "finish", "input", "output", "reasoning")

    def __init__(self) -> None:
        self.input = self.output = self.cached = self.reasoning = 0
        self.finish: str | None = None

    def read(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        self.input = int(usage.get("prompt_tokens") or 0)
        self.output = int(usage.get("completion_tokens") or 0)
        prompt_details = usage.get("prompt_tokens_details")
        if isinstance(prompt_details, dict):
            self.cached = int(prompt_details.get("cached_tokens") or 0)
        output_details = usage.get("completion_tokens_details")
        if isinstance(output_details, dict):
            self.reasoning = int(output_details.get("reasoning_tokens") or 0)


class Malformed(Exception):
    """A response body that is not a chat completion."""


def parse_completion(data: Any, usage: ResponseUsage) -> str:
    """The text of a chat.completion body; fills ``usage`` and the finish reason."""
    try:
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise Malformed(f"response has no choices[0].message: {str(data)[:200]}") from exc
    usage.read(data.get("usage"))
    usage.finish = choice.get("finish_reason")
    return str(text)
