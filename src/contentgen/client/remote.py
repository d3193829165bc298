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

The calls and retries are in ``remote_http`` (``HttpApi``), the clients and strategies in
``remote_setup`` (``RemoteSetupApi``); this module has the jobs and the prompts.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self

import httpx
from pydantic import ValidationError

from contentgen.client.base import BuiltPromptView, ClientRef
from contentgen.client.remote_http import IDEMPOTENT as IDEMPOTENT
from contentgen.client.remote_http import RETRY_ANY as RETRY_ANY
from contentgen.client.remote_http import RETRY_IDEMPOTENT as RETRY_IDEMPOTENT
from contentgen.client.remote_http import HttpApi, response_error
from contentgen.client.remote_setup import RemoteSetupApi
from contentgen.errors import (
    ClientNotFound,
    InvalidInput,
    JobFailed,
    JobNotFound,
    PromptJobNotFound,
    RemoteError,
)
from contentgen.logs import get_logger
from contentgen.models import (
    ContentRequest,
    Job,
    JobFilter,
    JobPage,
    JobStatus,
    PromptJob,
    PromptRequest,
    invalid_input_from,
)

if TYPE_CHECKING:
    from contentgen.settings import Settings

log = get_logger()

PAGE_MAX = 100


class RemoteClient(HttpApi, RemoteSetupApi):
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
                raise response_error(response, lambda: JobNotFound(str(job_id)))
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
