"""Rules and error messages shared by every storage backend, so they fail alike."""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from contentgen.errors import Conflict, InvalidInput, StorageError, StrategyNotFound
from contentgen.models import Client, JobStatus, LlmUsage, invalid_input_from


def not_open(backend: str) -> StorageError:
    return StorageError(
        f"{backend} is not open: use `async with storage:` or call `await storage.open()` first"
    )


def renamed(client: Client, name: str) -> Client:
    """``client`` with a new, validated name; raises ``InvalidInput``."""
    try:
        return Client.model_validate({**client.model_dump(), "name": name})
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc


def name_taken(name: str) -> Conflict:
    return Conflict(
        f"client: a client named {name!r} already exists (names are case-insensitive); "
        "choose another name",
        field="name",
        name=name,
    )


def duplicate(kind: str, ident: object) -> Conflict:
    return Conflict(f"{kind} {ident} already exists; use a new id", id=str(ident))


def has_children(client_id: uuid.UUID, count: int) -> Conflict:
    return Conflict(
        f"client {client_id} still has {count} child client(s); delete or re-parent them first",
        client_id=str(client_id),
        children=count,
    )


def rule_taken(name: str) -> Conflict:
    return Conflict(
        f"seo rule {name!r} already exists for this client; delete it first to replace it",
        field="name",
        name=name,
    )


def strategy_not_found(client_id: uuid.UUID, version: int) -> StrategyNotFound:
    return StrategyNotFound(
        f"strategy: client {client_id} has no strategy version {version}; "
        "see `contentgen strategies list`",
        client_id=str(client_id),
        version=version,
    )


def wrong_state(job_id: uuid.UUID, status: JobStatus, action: str) -> Conflict:
    return Conflict(
        f"job {job_id} is {status.value}, so it cannot be {action}",
        job_id=str(job_id),
        status=status.value,
    )


def check_usage(job_id: uuid.UUID, client_id: uuid.UUID, usage: list[LlmUsage]) -> None:
    """Usage rows stored with a job must belong to that job and its client."""
    for u in usage:
        if u.job_id != job_id or u.client_id != client_id:
            raise InvalidInput(
                f"usage: row {u.id} belongs to job {u.job_id} of client {u.client_id}, "
                f"not to job {job_id} of client {client_id}",
                field="usage",
            )
