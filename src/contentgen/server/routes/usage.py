"""The usage report for admin tokens: cost, tokens, pieces, failures and retries per client,
model or day (what `contentgen usage --json` prints)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

from contentgen.client.budget_api import report_json
from contentgen.server.deps import Admin, Cg, known_query_only
from contentgen.server.schemas import errors

router = APIRouter(tags=["usage"])
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    """A date-time as ISO 8601 text only (pydantic would also take a number of seconds)."""
    if isinstance(value, str) and not _ISO.match(value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z")
    return value


When = Annotated[datetime | None, BeforeValidator(_iso_only), Query()]


@router.get(
    "/usage",
    summary="Usage per client, model or day (admin tokens)",
    response_model=None,
    dependencies=[Depends(known_query_only)],
    responses={200: {"content": {"application/json": {}}}, **errors(400, 401, 403, 404)},
)
async def usage(
    cg: Cg,
    _admin: Admin,
    by: Annotated[Literal["client", "model", "day"], Query()] = "client",
    client: Annotated[str | None, Query(max_length=200)] = None,
    since: When = None,
    until: When = None,
) -> JSONResponse:
    """Every provider attempt is a usage row (retries and fallbacks too); ``total`` adds them
    up, with ``pieces`` (completed jobs) and ``failures`` (failed jobs) finished in the
    window. Money in USD, exact to the nano-dollar; ``cost`` is null when no call in the line
    had a known price (``unpriced_calls`` counts those). Times are ISO 8601 (UTC unless
    they say otherwise); ``since`` <= time < ``until``."""
    report = await cg.usage(by=by, client=client, since=since, until=until)
    names = {str(c.id): c.name for c in await cg.list_clients()} if by == "client" else {}
    return JSONResponse(report_json(report, names))
