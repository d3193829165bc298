"""Typed dependencies shared by the routes: the caller (from its bearer token) and the client
facade scoped to the caller's clients. Tenant filtering happens in the facade, not here."""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import Depends, Request

from contentgen.client.local import LocalClient
from contentgen.errors import Forbidden, JobNotFound, PromptJobNotFound
from contentgen.server.security import ANONYMOUS_ADMIN, Principal
from contentgen.server.state import AppState


async def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.contentgen
    return app_state


State = Annotated[AppState, Depends(state)]


async def get_caller(request: Request, app_state: State) -> Principal:
    if app_state.verifier is None:
        return ANONYMOUS_ADMIN
    return app_state.verifier.verify(request.headers.get("authorization"))


Caller = Annotated[Principal, Depends(get_caller)]


async def get_client(app_state: State, caller: Caller) -> LocalClient:
    return app_state.client.scoped(caller.clients)


Cg = Annotated[LocalClient, Depends(get_client)]


async def require_admin(caller: Caller) -> Principal:
    if not caller.admin:
        raise Forbidden("this needs an admin token (`contentgen tokens create --admin`)")
    return caller


Admin = Annotated[Principal, Depends(require_admin)]


async def job_uuid(job_id: str) -> uuid.UUID:
    """A whole job id (no prefixes here); anything else is a job that does not exist."""
    try:
        value = uuid.UUID(job_id)
    except ValueError:
        raise JobNotFound(job_id) from None
    structlog.contextvars.bind_contextvars(job_id=str(value))
    return value


async def prompt_job_uuid(job_id: str) -> uuid.UUID:
    try:
        value = uuid.UUID(job_id)
    except ValueError:
        raise PromptJobNotFound(job_id) from None
    structlog.contextvars.bind_contextvars(job_id=str(value))
    return value
