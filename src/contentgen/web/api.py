"""The two API endpoints the web page needs beyond the server's own: a job's piece as
sanitised HTML, and a client's strategy history. They are ordinary API routes (bearer token,
scoped to the token's clients, in the OpenAPI schema): anything the page shows, any other
client can fetch too."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentgen.errors import Conflict
from contentgen.models import Strategy, StrategyHistoryEntry
from contentgen.server.deps import Cg, job_uuid
from contentgen.server.schemas import errors
from contentgen.web.render import markdown_to_html

router = APIRouter()


class PieceHtml(BaseModel):
    """A completed job's piece rendered from Markdown and sanitised."""

    job_id: uuid.UUID
    title: str
    html: str = Field(description="Safe to insert into a page: no scripts, event handlers, "
                      "frames, images or non-http(s)/mailto links.")  # fmt: skip
    updated_at: datetime


class StrategyHistory(BaseModel):
    versions: list[Strategy] = Field(description="Every stored version, oldest first.")
    history: list[StrategyHistoryEntry] = Field(description="What happened when, oldest first.")


@router.get(
    "/jobs/{job_id}/html",
    tags=["jobs"],
    summary="A job's piece as sanitised HTML",
    response_model=None,
    responses={200: {"model": PieceHtml}, **errors(401, 404, 409)},
)
async def piece_html(job_id: str, cg: Cg) -> JSONResponse:
    """The Markdown of the piece rendered to HTML (CommonMark and tables), then sanitised:
    model output is untrusted. A job without a result yet is 409."""
    job = await cg.status(job_uuid(job_id))
    if job.result is None:
        raise Conflict(
            f"job {job.id} has no content ({job.status.value})", status=job.status.value
        )
    return JSONResponse({
        "job_id": str(job.id),
        "title": job.result.title,
        "html": markdown_to_html(job.result.content),
        "updated_at": job.updated_at.isoformat(),
    })  # fmt: skip


@router.get(
    "/clients/{ref}/strategy/history",
    tags=["clients"],
    summary="A client's strategy versions and their history",
    response_model=None,
    responses={200: {"model": StrategyHistory}, **errors(401, 404)},
)
async def strategy_history(ref: str, cg: Cg) -> JSONResponse:
    """``ref`` is the client's UUID or name. Versions of the client's own strategy (not its
    parents'), and one history entry per version created or activated."""
    client = await cg.resolve_client(ref)
    versions = await cg.list_strategies(client.id)
    history = await cg.strategy_history(client.id)
    return JSONResponse({
        "versions": [s.model_dump(mode="json") for s in sorted(versions, key=_version)],
        "history": [h.model_dump(mode="json") for h in history],
    })  # fmt: skip


def _version(strategy: Strategy) -> int:
    return strategy.version
