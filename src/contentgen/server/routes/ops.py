"""For operators: liveness, readiness (the database answers) and Prometheus metrics. These
need no token."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from contentgen.errors import StorageError
from contentgen.server.deps import State, known_query_only
from contentgen.server.errors import error_response
from contentgen.server.metrics import CONTENT_TYPE
from contentgen.server.schemas import HealthBody, errors

STRICT = [Depends(known_query_only)]  # unknown query parameters: 400
router = APIRouter(tags=["ops"], dependencies=STRICT)


@router.get("/healthz", summary="The process is up", response_model=None,
            responses={200: {"model": HealthBody}})  # fmt: skip
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="The database answers", response_model=None,
            responses={200: {"model": HealthBody}, **errors(503)})  # fmt: skip
async def readyz(app: State) -> JSONResponse:
    try:
        async with asyncio.timeout(5):
            await app.client.check_ready()
    except (StorageError, TimeoutError) as exc:
        message = str(exc) or "database did not answer within 5 s"
        return error_response(503, message, {"check": "database"})
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_model=None,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(app: State) -> Response:
    app.metrics.active.set(app.worker.active if app.worker is not None else 0)
    app.metrics.breakers(app.client.router.breakers.views())
    return Response(app.metrics.render(), media_type=CONTENT_TYPE)
