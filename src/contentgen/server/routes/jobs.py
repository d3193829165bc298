"""Content jobs: the reference's ``POST /generate`` and ``GET /status/{job_id}``, plus the job
list, cancel, retry and the live status stream."""

from __future__ import annotations

import json
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse

from contentgen.logs import get_logger
from contentgen.models import JobFilter, JobStatus
from contentgen.server.bodies import status_body
from contentgen.server.deps import Cg, State, client_for, job_uuid, known_query_only, state_of
from contentgen.server.events import status_events
from contentgen.server.schemas import GenerateBody, JobIdBody, JobsPage, StatusBody, errors

log = get_logger("contentgen.server")
STRICT = [Depends(known_query_only)]  # unknown query parameters: 400
router = APIRouter(tags=["jobs"])


@router.post(
    "/generate",
    summary="Queue a content job",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": JobIdBody}, **errors(400, 401, 404)},
)
async def generate(body: GenerateBody, cg: Cg, app: State) -> JSONResponse:
    """Validate the request, store a pending job and return its id at once; a worker (in this
    process or a separate ``contentgen worker``) runs it. An unknown client, or one the token
    may not use, is 404."""
    fields = body.model_dump(mode="json", exclude={"client_id"}, exclude_none=True)
    request = await cg.make_request(body.client_id, **fields)
    await cg.preflight(request)
    job_id = await cg.submit(request)
    structlog.contextvars.bind_contextvars(job_id=str(job_id))
    app.metrics.accepted(request.content_type.value)
    app.job_queued()
    log.info("job_accepted", client_id=str(request.client_id),
             content_type=request.content_type.value)  # fmt: skip
    return JSONResponse({"job_id": str(job_id)})


@router.get(
    "/status/{job_id}",
    summary="A job's status and result",
    response_model=None,
    responses={200: {"model": StatusBody}, **errors(401, 404)},
    openapi_extra={"parameters": [{"name": "job_id", "in": "path", "required": True,
                                   "schema": {"type": "string", "title": "Job Id"}}]},
)  # fmt: skip
async def status(request: Request) -> Response:
    """The reference's status body. Only whole job ids: a prefix is a job that does not
    exist."""
    # The hot path of polling clients: no FastAPI parameter solving (the path parameter is
    # read from the scope, documented above), the scoped client from the same function the
    # ``Cg`` dependency calls, and completed jobs' bodies from memory (they never change).
    cg = client_for(request)
    await known_query_only(request)
    wanted = job_uuid(request.path_params["job_id"])
    completed = state_of(request).completed
    hit = completed.get(wanted)
    if hit is not None and cg.in_scope(hit.client_id):
        return Response(hit.body, media_type="application/json")
    job = await cg.status(wanted)
    body = json.dumps(status_body(job), ensure_ascii=False, separators=(",", ":")).encode()
    completed.put(job, body)
    return Response(body, media_type="application/json")


@router.get(
    "/status/{job_id}/events",
    summary="Follow a job's status (server-sent events)",
    response_model=None,
    dependencies=STRICT,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
              "description": "One `status` event (with an `id:`) now and at each status "
                             "change, the `/status` body as data; a ping comment every 15 s; "
                             "the stream ends at completed, failed or cancelled."},
        **errors(401, 404),
    },
)  # fmt: skip
async def status_stream(job_id: str, cg: Cg, app: State) -> EventSourceResponse:
    """Closing the stream never cancels the job."""
    job = await cg.status(job_uuid(job_id))
    return EventSourceResponse(
        status_events(app.watcher, job), ping=app.sse_ping,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )  # fmt: skip


@router.get(
    "/jobs",
    summary="List jobs, newest first",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": JobsPage}, **errors(400, 401, 404)},
)
async def list_jobs(
    cg: Cg,
    client: Annotated[str | None, Query(description="Client UUID or name.")] = None,
    status: Annotated[JobStatus | None, Query()] = None,
    strategy_version: Annotated[int | None, Query(ge=0)] = None,
    template_version: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="From next_cursor.")] = None,
) -> JSONResponse:
    client_id = (await cg.resolve_client(client)).id if client is not None else None
    filt = JobFilter(client_id=client_id, status=status, strategy_version=strategy_version,
                     template_version=template_version, limit=limit)  # fmt: skip
    page = await cg.jobs_page(filt, cursor=cursor)
    return JSONResponse(
        {"jobs": [status_body(j) for j in page.jobs], "next_cursor": page.next_cursor}
    )


@router.post(
    "/jobs/{job_id}/cancel",
    summary="Cancel a pending or running job",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": StatusBody}, **errors(401, 404, 409)},
)
async def cancel(job_id: str, cg: Cg, app: State) -> JSONResponse:
    """A finished job cannot be cancelled (409)."""
    job = await cg.cancel(job_uuid(job_id))
    app.watcher.notify(job)
    return JSONResponse(status_body(job))


@router.post(
    "/jobs/{job_id}/retry",
    summary="Run a failed or cancelled job again",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": StatusBody}, **errors(401, 404, 409)},
)
async def retry(job_id: str, cg: Cg, app: State) -> JSONResponse:
    """The job goes back to pending as a new attempt; a completed job is refused (409)."""
    job = await cg.retry(job_uuid(job_id))
    app.job_queued()
    return JSONResponse(status_body(job))
