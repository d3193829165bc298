"""The HTTP side of ``RemoteClient`` (a mixin): one API call with retries, and the server's
error responses turned into the local client's errors.

tenacity retries what is safe to retry: connection failures (the request never left), 429
(after its ``Retry-After``) and 503 for every method, and any 5xx or broken connection for
idempotent ones (GET, PUT) too.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from contentgen.errors import (
    AuthError,
    Conflict,
    ContentgenError,
    Forbidden,
    InvalidInput,
    NotFound,
    RemoteError,
)
from contentgen.llm.openai_wire import retry_after
from contentgen.logs import get_logger

log = get_logger()

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses that mean "not processed, try again later" for any method.
RETRY_ANY = frozenset({429, 503})
#: Statuses worth another try for an idempotent request.
RETRY_IDEMPOTENT = frozenset({500, 502, 503, 504, 429})

NotFoundFactory = Callable[[], NotFound]


class _RetryableStatus(Exception):
    """A response worth another try (429, 5xx); carries its ``Retry-After``."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after(response.headers)


class HttpApi:
    """Mixin: needs ``_http``, ``base_url``, ``retries``, ``retry_wait``, ``max_retry_after``
    and ``sleep`` (``RemoteClient.__init__`` sets them)."""

    _http: httpx.AsyncClient
    base_url: str
    retries: int
    retry_wait: float
    max_retry_after: float
    sleep: Callable[[float], Awaitable[None]]

    def _should_retry(self, method: str) -> Callable[[BaseException], bool]:
        def check(exc: BaseException) -> bool:
            if isinstance(exc, _RetryableStatus):
                code = exc.response.status_code
                return code in RETRY_ANY or (method in IDEMPOTENT and code in RETRY_IDEMPOTENT)
            if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                return True  # the request never reached the server
            return method in IDEMPOTENT and isinstance(exc, httpx.TransportError)

        return check

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return float(min(exc.retry_after, self.max_retry_after))
        # exponential with jitter (written out: tenacity renamed wait_exponential_jitter's
        # arguments between the versions we support)
        backoff = float(self.retry_wait * 2 ** (state.attempt_number - 1))
        return min(10.0, backoff) + random.uniform(0, self.retry_wait)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else None
        log.info("server_retry", attempt=state.attempt_number, wait=wait,
                 error=str(exc) or type(exc).__name__)  # fmt: skip

    async def _call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
        not_found: NotFoundFactory | None = None,
    ) -> Any:  # fmt: skip
        """One API call with retries; the JSON body of a 2xx, else the matching error."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry(method)),
            before_sleep=self._log_retry,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._http.request(method, path, json=body, params=params)
                    if response.status_code in RETRY_IDEMPOTENT:
                        raise _RetryableStatus(response)
        except _RetryableStatus as exc:
            raise response_error(exc.response, not_found) from None
        except httpx.TimeoutException as exc:
            raise RemoteError(f"server {self.base_url} did not answer in time ({method} {path})"
                              ) from exc  # fmt: skip
        except httpx.TransportError as exc:
            raise RemoteError(f"cannot reach the server at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise response_error(response, not_found)
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteError(f"server answered {method} {path} with a body that is not JSON",
                              status=response.status_code) from exc  # fmt: skip


def response_error(response: httpx.Response, not_found: NotFoundFactory | None) -> ContentgenError:
    """The local client's error for an error response of the server."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    details: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message: str = body["error"]
        if isinstance(body.get("details"), dict):
            details = body["details"]
    else:
        message = response.text[:200] or response.reason_phrase
    if status == 400:
        extra = {k: v for k, v in details.items() if k != "field"}
        return InvalidInput(message, field=details.get("field"), **extra)
    if status == 401:
        return AuthError(f"server refused the token: {message}",
                         reason=str(details.get("reason", "invalid")))  # fmt: skip
    if status == 403:
        return Forbidden(message)
    if status == 404:
        return not_found() if not_found is not None else NotFound(message)
    if status == 409:
        return Conflict(message, **details)
    return RemoteError(f"server answered {status}: {message}", status=status)
