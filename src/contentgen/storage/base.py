"""The ``Storage`` protocol: everything contentgen keeps.

Implementations: ``SqliteStorage`` (embedded default) and ``MemoryStorage`` (tests, embedding).
Both pass ``tests/storage/test_contract.py``.
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self, runtime_checkable

from contentgen.models import (
    Client,
    ContentPreference,
    ContentResult,
    ContentType,
    Job,
    JobAttempt,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    PromptJob,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
)


@dataclass(frozen=True)
class Lease:
    """A runner's hold on a job: only the holder of the current token may finish it."""

    job_id: uuid.UUID
    holder: str  # "host:pid:random" of the claimer
    token: int  # fencing token, +1 at every claim of the job
    attempt: int  # 1 at first claim, +1 per claim (expired-lease reclaims included)
    expires_at: datetime


@dataclass(frozen=True)
class ClaimedJob:
    job: Job  # status in_progress
    lease: Lease


def new_holder() -> str:
    """A holder name unique to this runner: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@runtime_checkable
class Storage(Protocol):
    """Async persistence for clients, their setup, jobs, prompt jobs and usage."""

    async def open(self) -> None:
        """Connect and apply pending migrations. Idempotent."""

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    # clients --------------------------------------------------------------------------------
    async def add_client(self, client: Client) -> Client:
        """Store a new client; raises ``Conflict`` if the name is taken."""

    async def get_client(self, client_id: uuid.UUID) -> Client | None: ...

    async def get_client_by_name(self, name: str) -> Client | None:
        """Case-insensitive lookup by name."""

    async def list_clients(self) -> list[Client]: ...

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client: ...

    async def delete_client(self, client_id: uuid.UUID) -> None:
        """Delete the client with its setup, jobs and usage rows."""

    # strategies (versioned; exactly one active per client) ---------------------------------
    async def add_strategy(
        self, client_id: uuid.UUID, name: str, config: StrategyConfig, changes: list[str]
    ) -> Strategy:
        """Store a new version (previous max + 1), make it the active one, log history."""

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        """The given version, or the active one when ``version`` is None."""

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]: ...

    async def activate_strategy(self, client_id: uuid.UUID, version: int) -> Strategy: ...

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]: ...

    # seo rules, preferences ------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule: ...

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]: ...

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool: ...

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        """Insert or replace the client's preference with the same key."""

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]: ...

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool: ...

    # prompt templates (versioned per client and content type) -------------------------------
    async def add_template(
        self, client_id: uuid.UUID, content_type: ContentType, body: str
    ) -> PromptTemplate:
        """Store a new active version of the client's template for the content type."""

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None: ...

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]: ...

    # jobs --------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        """Store a new job; it must be ``pending`` (``InvalidInput`` otherwise)."""

    async def get_job(self, job_id: uuid.UUID) -> Job | None: ...

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        """Jobs whose id (canonical text form) starts with ``prefix``."""

    async def find_job_by_key(self, key: str) -> Job | None:
        """The newest job created for this request identity (``Job.request_key``)."""

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        """Newest first (by creation order), ``filt.limit`` per page; pass the page's
        ``next_cursor`` as ``filt.cursor`` for the next one."""

    async def count_jobs(self, client_id: uuid.UUID) -> int: ...

    # leases ------------------------------------------------------------------------------
    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        """Claim up to ``limit`` runnable jobs in one atomic step, oldest first.

        Runnable: ``pending``, or ``in_progress`` under an expired lease. Each claimed job is
        ``in_progress`` with a lease of ``lease_seconds`` whose token and attempt are one more
        than the previous claim's. An expired job that already used ``max_attempts`` claims
        since it was created (or retried) is set ``failed`` ("worker lost N times; last seen
        HOLDER at TIME") in the same step instead. ``job_id`` restricts the claim to that job.
        """

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        """Extend the lease to now + ``lease_seconds``; None when it is lost (taken over,
        cancelled, finished)."""

    async def finish_job(
        self,
        lease: Lease,
        *,
        status: JobStatus,
        result: ContentResult | None = None,
        error: str | None = None,
        usage: Sequence[LlmUsage] = (),
        strategy_version: int | None = None,
        template_version: str | None = None,
    ) -> Job | None:
        """End the attempt: status (completed needs ``result``, failed an ``error``), result,
        versions and usage rows in one transaction, only while the job is ``in_progress``
        under the lease's token. None = fenced out: nothing was written."""

    async def release_job(self, lease: Lease) -> bool:
        """Hand the job back (``pending``) without counting the attempt; False if the lease
        was already lost."""

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        """``pending``/``in_progress`` -> ``cancelled`` (the runner is fenced out);
        ``Conflict`` for a finished job."""

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        """``failed``/``cancelled`` -> ``pending`` as a new attempt with a fresh attempt
        budget; the attempts before stay in ``job_attempts``. ``Conflict`` otherwise."""

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        """Every claim of the job, oldest first."""

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]: ...

    # prompt jobs ---------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        """Insert or update by id."""

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None: ...
