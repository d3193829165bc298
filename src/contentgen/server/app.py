"""``create_app(settings, client)``: the HTTP server of contentgen (FastAPI).

The reference's contract (``POST /generate``, ``GET /status/{job_id}``, ``POST
/generate-prompt``, ``GET /prompt/{job_id}``) plus jobs, live status (SSE), clients and
strategies, health, readiness, metrics and OpenAPI (``/openapi.json``, ``/docs``).
Every route but the ops ones needs a bearer token unless auth is off (``auth=False``, which
``contentgen serve`` allows on loopback only).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from contentgen import __version__, web
from contentgen.client.local import LocalClient
from contentgen.errors import ConfigurationError
from contentgen.logs import get_logger
from contentgen.models import Job
from contentgen.production.pipeline import JobRun
from contentgen.server import errors
from contentgen.server.context import RequestContext
from contentgen.server.events import JobWatcher
from contentgen.server.metrics import Metrics
from contentgen.server.routes import clients, jobs, ops, prompts, usage
from contentgen.server.security import TokenVerifier
from contentgen.server.state import AppState
from contentgen.settings import Settings

log = get_logger("contentgen.server")

PUBLIC_TAGS = {"ops"}


def create_app(
    settings: Settings,
    client: LocalClient,
    *,
    auth: bool = True,
    workers_in_process: int | None = None,
    watch_interval: float = 0.25,
    worker_poll: float = 0.2,
    sse_ping: float = 15.0,
) -> FastAPI:
    """The app over ``client`` (opened at start-up; the caller closes it).

    ``workers_in_process``: jobs run at once in this process (default: the concurrency
    setting); 0 leaves them to ``contentgen worker`` processes on the same database.
    """
    verifier: TokenVerifier | None = None
    if auth:
        if settings.jwt_secret is None:
            raise ConfigurationError(
                "the server needs CONTENTGEN_JWT_SECRET to check tokens (or --no-auth on "
                "127.0.0.1 for local use)"
            )
        verifier = TokenVerifier(settings.jwt_secret.get_secret_value())
    n_workers = settings.concurrency if workers_in_process is None else workers_in_process
    metrics = Metrics()
    watcher = JobWatcher(client.status, interval=watch_interval)
    state = AppState(settings, client, verifier, metrics, watcher, n_workers, sse_ping)

    started_at: dict[uuid.UUID, float] = {}

    def started(job: Job) -> None:
        started_at[job.id] = time.perf_counter()
        log.info("job_started", job_id=str(job.id))
        watcher.notify(job)  # in_progress, claimed here

    def finished(run: JobRun) -> None:
        began = started_at.pop(run.job.id, None)
        if run.job.status.finished and not run.fenced:
            seconds = None if began is None else time.perf_counter() - began
            metrics.finished(run.job, seconds, kind=getattr(run.failure, "kind", None))
        watcher.notify(run.job)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.tracing:
            from contentgen.tracing import setup_tracing

            setup_tracing(settings)
        await client.open()
        client.run_submitted = False  # jobs are the workers' (in process or separate)
        stop = asyncio.Event()
        running: asyncio.Task[object] | None = None
        if n_workers > 0:
            state.worker = client.worker(
                n_workers, on_start=started, on_finish=finished, poll=worker_poll,
                max_poll=max(worker_poll, 2.0),
            )  # fmt: skip
            running = asyncio.create_task(state.worker.run(stop), name="in-process-worker")
        try:
            yield
        finally:
            stop.set()
            if running is not None:
                await running
            await watcher.aclose()

    app = FastAPI(
        title="contentgen",
        version=__version__,
        summary="Marketing content from per-client strategies, with LLMs.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.contentgen = state
    errors.install(app)
    for router in (jobs.router, prompts.router, clients.router, usage.router, ops.router):
        app.include_router(router)
    web.mount(app)  # the web page: /, /web/..., /static/... (contentgen.web)
    app.add_middleware(errors.BodyLimit)
    app.add_middleware(RequestContext)
    app.openapi = lambda: _openapi(app, auth=auth)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, *, auth: bool) -> dict[str, Any]:
    """FastAPI's schema with our error shape: 400 ``{error, details}`` instead of its 422,
    and the bearer scheme on every route that needs a token."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         routes=app.routes)  # fmt: skip
    components = schema.setdefault("components", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(name, None)
    if auth:
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            public = PUBLIC_TAGS & set(operation.get("tags", []))
            if auth and not public:
                operation["security"] = [{"bearer": []}]
            elif not auth:
                responses.pop("401", None)
            if "parameters" in operation or "requestBody" in operation:
                responses.setdefault("400", {
                    "description": "Invalid request",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorBody"}}},
                })  # fmt: skip
    app.openapi_schema = schema
    return schema
