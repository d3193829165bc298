"""Rules and error messages shared by every storage backend, so they fail alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from contentgen.errors import Conflict, InvalidInput, StorageError, StrategyNotFound
from contentgen.models import Client, Job, JobStatus, LlmUsage, invalid_input_from


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


def check_usage(job_id: uuid.UUID, client_id: uuid.UUID, usage: Sequence[LlmUsage]) -> None:
    """Usage rows stored with a job must belong to that job and its client."""
    for u in usage:
        if u.job_id != job_id or u.client_id != client_id:
            raise InvalidInput(
                f"usage: row {u.id} belongs to job {u.job_id} of client {u.client_id}, "
                f"not to job {job_id} of client {client_id}",
                field="usage",
            )


def not_pending(job: Job) -> InvalidInput:
    return InvalidInput(
        f"job {job.id}: a new job must be pending (got {job.status.value}); jobs reach other "
        "states through claim_jobs / finish_job",
        field="status",
    )


def make_cursor(seq: int) -> str:
    return str(seq)


def parse_cursor(cursor: str) -> int:
    """The position a ``next_cursor`` stands for; ``InvalidInput`` for anything else."""
    if cursor.isascii() and cursor.isdigit() and len(cursor) <= 19:
        return int(cursor)
    raise InvalidInput(
        f"cursor: {cursor[:40]!r} is not a cursor of this job list; "
        "pass the next_cursor of the previous page",
        field="cursor",
    )


def check_lease_args(limit: int, lease_seconds: float, max_attempts: int) -> None:
    if limit < 1:
        raise InvalidInput(f"limit: must be at least 1 (got {limit})", field="limit")
    if not 0 <= lease_seconds <= 366 * 86400:  # also refuses NaN
        raise InvalidInput(
            f"lease_seconds: must be 0 to a year (got {lease_seconds})", field="lease_seconds"
        )
    if max_attempts < 1:
        raise InvalidInput(
            f"max_attempts: must be at least 1 (got {max_attempts})", field="max_attempts"
        )


FINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def check_finish(status: JobStatus, has_result: bool, error: str | None) -> None:
    if status not in FINAL:
        raise InvalidInput(
            f"status: a job finishes completed, failed or cancelled (got {status.value})",
            field="status",
        )
    if status is JobStatus.COMPLETED and not has_result:
        raise InvalidInput("result: a completed job needs its result", field="result")
    if status is JobStatus.FAILED and not error:
        raise InvalidInput("error: a failed job needs the reason it failed", field="error")


def worker_lost(times: int, holder: str, last_seen: datetime) -> str:
    """The error of a job whose runners all vanished."""
    when = last_seen.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"worker lost {times} time{'s' if times != 1 else ''}; last seen {holder} at {when}"
