"""Typed dependencies shared by the routes: the client facade scoped to the caller's clients
(from its bearer token), the caller itself, and the app's state. Tenant filtering happens in
the facade, not here.

One dependency per route where possible: FastAPI's dependency solving costs more per request
than the token check (which is cached) and the scoping together.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import Depends, Request

from contentgen.client.local import LocalClient
from contentgen.errors import Forbidden, InvalidInput, JobNotFound, PromptJobNotFound
from contentgen.server.security import ANONYMOUS_ADMIN, Principal
from contentgen.server.state import AppState


def state_of(request: Request) -> AppState:
    app_state: AppState = request.app.state.contentgen
    return app_state


def caller_of(request: Request) -> Principal:
    """The caller of a request: ``TokenRejected`` (401) without a good token."""
    app_state = state_of(request)
    if app_state.verifier is None:
        return ANONYMOUS_ADMIN
    return app_state.verifier.verify(request.headers.get("authorization"))


async def get_state(request: Request) -> AppState:
    return state_of(request)


def client_for(request: Request) -> LocalClient:
    """The client facade as the caller may use it."""
    return state_of(request).view(caller_of(request).clients)


async def get_client(request: Request) -> LocalClient:
    return client_for(request)


async def require_admin(request: Request) -> Principal:
    caller = caller_of(request)
    if not caller.admin:
        raise Forbidden("this needs an admin token (`contentgen tokens create --admin`)")
    return caller


State = Annotated[AppState, Depends(get_state)]
Cg = Annotated[LocalClient, Depends(get_client)]
Admin = Annotated[Principal, Depends(require_admin)]


async def known_query_only(request: Request) -> None:
    """Refuse query parameters a route does not take (a typo like ``?statu=failed`` would
    otherwise be ignored silently): 400 naming them, like an unknown body field."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = {p.alias for p in getattr(dependant, "query_params", ())}
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidInput(
            f"{unknown[0]}: unknown query parameter"
            + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else " (none allowed)"),
            field=unknown[0],
        )


def job_uuid(job_id: str) -> uuid.UUID:
    """A whole job id (no prefixes here); anything else is a job that does not exist."""
    try:
        value = uuid.UUID(job_id)
    except ValueError:
        raise JobNotFound(job_id) from None
    structlog.contextvars.bind_contextvars(job_id=job_id)
    return value


def prompt_job_uuid(job_id: str) -> uuid.UUID:
    try:
        value = uuid.UUID(job_id)
    except ValueError:
        raise PromptJobNotFound(job_id) from None
    structlog.contextvars.bind_contextvars(job_id=job_id)
    return value
