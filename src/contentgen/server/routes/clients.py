"""Clients and strategies: reads for any token (within its clients), the strategy write for
admin tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from contentgen.errors import StrategyNotFound
from contentgen.models import Strategy
from contentgen.server.deps import Admin, Cg, known_query_only
from contentgen.server.schemas import ClientsBody, ClientView, StrategyBody, errors

STRICT = [Depends(known_query_only)]  # unknown query parameters: 400
router = APIRouter(tags=["clients"])


@router.get(
    "/clients",
    summary="The clients this token may use",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": ClientsBody}, **errors(401)},
)
async def list_clients(cg: Cg) -> JSONResponse:
    clients = await cg.list_clients()
    return JSONResponse({"clients": [c.model_dump(mode="json") for c in clients]})


@router.get(
    "/clients/{ref}",
    summary="A client with its effective setup",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": ClientView}, **errors(401, 404)},
)
async def get_client(ref: str, cg: Cg) -> JSONResponse:
    """``ref`` is the client's UUID or name. ``setup`` is what a request for the client gets:
    its own strategy, rules, preferences and templates with the rest inherited (``origins``
    say from whom)."""
    client = await cg.resolve_client(ref)
    setup = await cg.effective_setup(client.id)
    try:
        own = (await cg.get_strategy(client.id)).model_dump(mode="json")
    except StrategyNotFound:
        own = None
    return JSONResponse({"client": client.model_dump(mode="json"), "strategy": own,
                         "setup": setup.model_dump(mode="json")})  # fmt: skip


@router.get(
    "/clients/{ref}/strategy",
    summary="A client's own strategy (the active version, or ?version=N)",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": Strategy}, **errors(400, 401, 404)},
)
async def get_strategy(
    ref: str, cg: Cg, version: Annotated[int | None, Query(ge=1)] = None
) -> JSONResponse:
    strategy = await cg.get_strategy(ref, version)
    return JSONResponse(strategy.model_dump(mode="json"))


@router.put(
    "/clients/{ref}/strategy",
    summary="Store a new strategy version (admin)",
    response_model=None,
    dependencies=STRICT,
    responses={200: {"model": Strategy}, **errors(400, 401, 403, 404)},
)
async def put_strategy(ref: str, body: StrategyBody, cg: Cg, _admin: Admin) -> JSONResponse:
    """The config becomes the client's new active version (version + 1, with a history entry);
    a config equal to the active one changes nothing and returns it."""
    strategy = await cg.set_strategy(ref, body.config, body.name)
    return JSONResponse(strategy.model_dump(mode="json"))
