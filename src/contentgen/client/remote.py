"""``RemoteClient``: the ``ContentClient`` contract over a contentgen server's HTTP API.

::

    async with RemoteClient("http://127.0.0.1:8000", token="eyJ...") as cg:
        job = await cg.generate(topic="Solar panels for small offices", client="acme")

httpx does the HTTP (timeouts, keep-alive); tenacity retries what is safe to retry:
connection failures (the request never left), 429 (after its ``Retry-After``) and 503 for every
method, and any 5xx or broken connection for idempotent ones (GET, PUT) too. The server's
errors come back as the local client's: 400 -> ``InvalidInput`` (``field`` and ``details``),
404 -> ``JobNotFound`` / ``ClientNotFound`` / ``PromptJobNotFound``, 409 -> ``Conflict``,
401 -> ``AuthError`` (``reason``), 403 -> ``Forbidden``. ``wait`` follows the job's
server-sent events and falls back to polling when the stream breaks.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import httpx
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from contentgen.client.base import BuiltPromptView, ClientRef
from contentgen.errors import (
    AuthError,
    ClientNotFound,
    Conflict,
    ContentgenError,
    Forbidden,
    InvalidInput,
    JobFailed,
    JobNotFound,
    NotFound,
    PromptJobNotFound,
    RemoteError,
)
from contentgen.logs import get_logger
from contentgen.models import (
    Client as ClientRecord,
)
from contentgen.models import (
    ContentRequest,
    Job,
    JobFilter,
    JobPage,
    JobStatus,
    PromptJob,
    PromptRequest,
    Strategy,
    StrategyConfig,
    invalid_input_from,
)

if TYPE_CHECKING:
    from contentgen.instructions.setup import EffectiveSetup
    from contentgen.settings import Settings

log = get_logger()

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses that mean "not processed, try again later" for any method.
RETRY_ANY = frozenset({429, 503})
#: Statuses worth another try for an idempotent request.
RETRY_IDEMPOTENT = frozenset({500, 502, 503, 504, 429})
PAGE_MAX = 100

NotFoundFactory = Callable[[], NotFound]


class _RetryableStatus(Exception):
    """A response worth another try (429, 5xx); carries its ``Retry-After``."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = _retry_after(response.headers.get("retry-after"))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RemoteClient:
    """A ``ContentClient`` that talks to a contentgen server; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        retry_wait: float = 0.5,
        max_retry_after: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "contentgen-remote"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.retry_wait = retry_wait
        self.max_retry_after = max_retry_after
        #: How retries wait (tests replace it to record the delays).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if not settings.server_url:
            raise InvalidInput("server: no server URL (CONTENTGEN_SERVER_URL)", field="server")
        token = settings.token.get_secret_value() if settings.token else None
        return cls(settings.server_url, token=token, retry_wait=settings.retry_wait)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # HTTP -------------------------------------------------------------------------------------
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
            raise _error(exc.response, not_found) from None
        except httpx.TimeoutException as exc:
            raise RemoteError(f"server {self.base_url} did not answer in time ({method} {path})"
                              ) from exc  # fmt: skip
        except httpx.TransportError as exc:
            raise RemoteError(f"cannot reach the server at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response, not_found)
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteError(f"server answered {method} {path} with a body that is not JSON",
                              status=response.status_code) from exc  # fmt: skip

    # jobs -------------------------------------------------------------------------------------
    async def make_request(self, client: ClientRef = None, **fields: Any) -> ContentRequest:
        _validate_fields(fields)
        record = await self.resolve_client(client)
        return ContentRequest(client_id=record.id, **fields)

    async def submit(self, request: ContentRequest | None = None, **fields: Any) -> uuid.UUID:
        if request is None:
            ref = fields.pop("client", None)
            _validate_fields(fields)
            body = {k: v for k, v in fields.items() if v is not None}
            body["client_id"] = str(ref) if ref is not None else "default"
        else:
            ref, body = request.client_id, request.model_dump(mode="json", exclude_none=True)
        data = await self._call("POST", "/generate", body=body,
                                not_found=lambda: ClientNotFound(str(ref)))  # fmt: skip
        return uuid.UUID(data["job_id"])

    async def status(self, job_id: uuid.UUID | str) -> Job:
        job_uuid = _job_uuid(job_id)
        data = await self._call("GET", f"/status/{job_uuid}",
                                not_found=lambda: JobNotFound(str(job_id)))  # fmt: skip
        return job_from_body(data)

    async def wait(
        self, job_id: uuid.UUID | str, *, timeout: float | None = None, poll: float = 0.5
    ) -> Job:
        """Follow ``/status/{id}/events`` to a final status; poll ``/status`` if it breaks."""
        job_uuid = _job_uuid(job_id)
        async with asyncio.timeout(timeout):
            try:
                job = await self._follow(job_uuid)
                if job is not None:
                    return job
            except (httpx.TransportError, RemoteError, ValueError) as exc:
                log.info("sse_fallback_to_polling", job_id=str(job_uuid), error=repr(exc))
            while True:
                job = await self.status(job_uuid)
                if job.status.finished:
                    return job
                await asyncio.sleep(poll)

    async def _follow(self, job_id: uuid.UUID) -> Job | None:
        """The job at its final status from the event stream, or None if the stream ended
        first."""
        from httpx_sse import aconnect_sse

        path = f"/status/{job_id}/events"
        # read timeout: well above the server's 15 s ping
        timeout = httpx.Timeout(10.0, read=60.0)
        headers = {"Accept": "text/event-stream"}
        async with aconnect_sse(self._http, "GET", path, timeout=timeout,
                                headers=headers) as source:  # fmt: skip
            response = source.response
            if response.status_code != 200:
                await response.aread()
                raise _error(response, lambda: JobNotFound(str(job_id)))
            async for event in source.aiter_sse():
                if event.event != "status":
                    continue
                job = job_from_body(json.loads(event.data))
                if job.status.finished:
                    return job
        return None

    async def generate(
        self, request: ContentRequest | None = None, *, timeout: float | None = None,
        **fields: Any,
    ) -> Job:  # fmt: skip
        job_id = await self.submit(request, **fields)
        job = await self.wait(job_id, timeout=timeout)
        if job.status is JobStatus.FAILED:
            raise JobFailed(str(job.id), job.error or "unknown error")
        return job

    async def jobs(self, filt: JobFilter | None = None, **fields: Any) -> list[Job]:
        filt = filt or JobFilter(**fields)
        found: list[Job] = []
        cursor: str | None = None
        while len(found) < filt.limit:
            size = min(PAGE_MAX, filt.limit - len(found))
            page = await self.jobs_page(filt.model_copy(update={"limit": size}), cursor=cursor)
            found += page.jobs
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    async def jobs_page(
        self, filt: JobFilter | None = None, *, cursor: str | None = None
    ) -> JobPage:
        filt = filt or JobFilter()
        params: dict[str, Any] = {"limit": min(filt.limit, PAGE_MAX)}
        if filt.client_id is not None:
            params["client"] = str(filt.client_id)
        if filt.status is not None:
            params["status"] = filt.status.value
        if filt.strategy_version is not None:
            params["strategy_version"] = filt.strategy_version
        if filt.template_version is not None:
            params["template_version"] = filt.template_version
        if cursor is not None:
            params["cursor"] = cursor
        ref = str(filt.client_id)
        data = await self._call("GET", "/jobs", params=params,
                                not_found=lambda: ClientNotFound(ref))  # fmt: skip
        return JobPage(jobs=[job_from_body(j) for j in data["jobs"]],
                       next_cursor=data.get("next_cursor"))  # fmt: skip

    async def cancel(self, job_id: uuid.UUID | str) -> Job:
        job_uuid = _job_uuid(job_id)
        data = await self._call("POST", f"/jobs/{job_uuid}/cancel",
                                not_found=lambda: JobNotFound(str(job_id)))  # fmt: skip
        return job_from_body(data)

    async def retry(self, job_id: uuid.UUID | str) -> Job:
        job_uuid = _job_uuid(job_id)
        data = await self._call("POST", f"/jobs/{job_uuid}/retry",
                                not_found=lambda: JobNotFound(str(job_id)))  # fmt: skip
        return job_from_body(data)

    async def preflight(self, request: ContentRequest) -> str | None:
        """The server picks the model: nothing to check here; the request's model if set."""
        return request.model

    # prompts ----------------------------------------------------------------------------------
    async def prompt(self, client: ClientRef = None, **fields: Any) -> BuiltPromptView:
        """Build the prompt on the server (a prompt job) and wait for it."""
        _validate_fields(fields)
        body = {k: fields[k] for k in ("topic", "content_type", "keywords", "length")
                if fields.get(k) is not None}  # fmt: skip
        body["client_id"] = str(client) if client is not None else "default"
        data = await self._call("POST", "/generate-prompt", body=body,
                                not_found=lambda: ClientNotFound(str(client)))  # fmt: skip
        job_id = uuid.UUID(data["job_id"])
        delay, deadline = 0.02, time.monotonic() + 60
        while True:
            job = await self.get_prompt(job_id)
            if job.status is JobStatus.COMPLETED and job.prompt and job.metadata:
                return BuiltPromptView(job.prompt, job.metadata)
            if job.status.finished:
                raise InvalidInput(job.error or "prompt job failed", field="prompt")
            if time.monotonic() > deadline:
                raise RemoteError(f"prompt job {job_id} did not finish within 60 s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def generate_prompt(self, request: PromptRequest) -> uuid.UUID:
        ref = str(request.client_id)
        body = request.model_dump(mode="json")
        data = await self._call("POST", "/generate-prompt", body=body,
                                not_found=lambda: ClientNotFound(ref))  # fmt: skip
        return uuid.UUID(data["job_id"])

    async def get_prompt(self, job_id: uuid.UUID | str) -> PromptJob:
        try:
            job_uuid = _job_uuid(job_id)
        except JobNotFound:
            raise PromptJobNotFound(str(job_id)) from None
        data = await self._call("GET", f"/prompt/{job_uuid}",
                                not_found=lambda: PromptJobNotFound(str(job_id)))  # fmt: skip
        return PromptJob.model_validate(
            {"id": data["job_id"], "status": data["status"], "params": data["params"],
             "prompt": data.get("prompt"), "metadata": data.get("metadata"),
             "error": data.get("error"), "created_at": data["created_at"],
             "updated_at": data["updated_at"]}
        )  # fmt: skip

    # clients and strategies -------------------------------------------------------------------
    async def list_clients(self) -> list[ClientRecord]:
        data = await self._call("GET", "/clients")
        return [ClientRecord.model_validate(c) for c in data["clients"]]

    async def _client_view(self, ref: ClientRef) -> dict[str, Any]:
        name = str(ref) if ref is not None else "default"
        data: dict[str, Any] = await self._call(
            "GET", f"/clients/{quote(name, safe='')}", not_found=lambda: ClientNotFound(name)
        )
        return data

    async def resolve_client(self, ref: ClientRef) -> ClientRecord:
        return ClientRecord.model_validate((await self._client_view(ref))["client"])

    async def effective_setup(self, ref: ClientRef) -> EffectiveSetup:
        from contentgen.instructions.setup import EffectiveSetup

        return EffectiveSetup.model_validate((await self._client_view(ref))["setup"])

    async def get_strategy(self, ref: ClientRef, version: int | None = None) -> Strategy:
        name = str(ref) if ref is not None else "default"
        params = {"version": version} if version is not None else None
        data = await self._call("GET", f"/clients/{quote(name, safe='')}/strategy",
                                params=params, not_found=lambda: ClientNotFound(name))  # fmt: skip
        return Strategy.model_validate(data)

    async def set_strategy(
        self, ref: ClientRef, config: StrategyConfig | dict[str, Any], name: str = "default"
    ) -> Strategy:
        ref_name = str(ref) if ref is not None else "default"
        data_config = (
            config.model_dump(mode="json", exclude_none=True)
            if isinstance(config, StrategyConfig) else config
        )  # fmt: skip
        data = await self._call(
            "PUT", f"/clients/{quote(ref_name, safe='')}/strategy",
            body={"name": name, "config": data_config},
            not_found=lambda: ClientNotFound(ref_name),
        )  # fmt: skip
        return Strategy.model_validate(data)


# bodies -----------------------------------------------------------------------------------------
def job_from_body(data: dict[str, Any]) -> Job:
    """A ``Job`` from the server's status body (the reference's fields plus ``params``)."""
    try:
        return Job.model_validate(
            {"id": data["job_id"], "status": data["status"], "params": data["params"],
             "result": data.get("result"), "error": data.get("error"),
             "strategy_version": data.get("strategy_version"),
             "template_version": data.get("template_version"),
             "created_at": data["created_at"], "updated_at": data["updated_at"]}
        )  # fmt: skip
    except (KeyError, TypeError, ValidationError) as exc:
        raise RemoteError(f"server sent a job body this client cannot read: {exc}") from exc


def _validate_fields(fields: dict[str, Any]) -> None:
    """Check request fields as the local client does (same errors, no round trip)."""
    fields.setdefault("content_type", "blog")
    try:
        ContentRequest(client_id=uuid.UUID(int=0), **fields)
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc


def _job_uuid(job_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(job_id, uuid.UUID):
        return job_id
    try:
        return uuid.UUID(job_id.strip())
    except ValueError:
        value = job_id.strip().lower()
        if 4 <= len(value) < 36 and all(c in "0123456789abcdef-" for c in value):
            raise InvalidInput(
                f"job: {job_id!r} looks like an id prefix; a server needs the whole job id",
                field="job",
            ) from None
        raise JobNotFound(job_id) from None


def _error(response: httpx.Response, not_found: NotFoundFactory | None) -> ContentgenError:
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
