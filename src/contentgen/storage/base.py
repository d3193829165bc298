"""The storage protocols, one per role, and the lease types.

``SetupStore`` (clients and their setup), ``JobStore`` (jobs, leases, prompt jobs),
``UsageStore`` (usage rows); ``Storage`` is all three plus open/close. Implementations:
``SqliteStorage`` (embedded default), ``MemoryStorage`` (tests, embedding); each passes the
contract suite in ``tests/storage``. Domain rules over the primitives (strategy and template
version numbers, history entries) are in ``setup_rules``.
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
    StrategyHistoryEntry,
    UsageGroup,
    UsageReport,
    UsageSummary,
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


@dataclass(frozen=True)
class BudgetState:
    """Where a client's spending stands in a period (money in integer nano-dollars):
    ``spent`` is its priced usage rows in the period, ``reserved`` what calls of its running
    jobs hold (reservations not yet replaced by usage rows), ``unpriced_calls`` its usage rows
    in the period whose price is unknown."""

    spent_nanos: int = 0
    reserved_nanos: int = 0
    unpriced_calls: int = 0


@dataclass(frozen=True)
class Reservation:
    """Money held for one paid call of a job until the job's usage rows replace it."""

    id: uuid.UUID
    client_id: uuid.UUID
    job_id: uuid.UUID
    amount_nanos: int


@dataclass(frozen=True)
class Reserved:
    """What ``reserve_budget`` did: ``reservation`` None = refused; ``state`` the spending it
    saw before (for the message of a refusal)."""

    reservation: Reservation | None
    state: BudgetState


def new_holder() -> str:
    """A holder name unique to this runner: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class SetupStore(Protocol):
    """Clients and their setup. Primitives only: version numbers, activation and history
    entries are decided by ``setup_rules``. Every change of a client's setup (name, strategy,
    rules, preferences, templates) bumps its setup revision in the same transaction."""

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

    async def setup_revision(self, client_id: uuid.UUID) -> int:
        """A number that grows whenever the setup of the client or of an ancestor changes
        (largest revision along the chain; revisions are database-wide increasing). 0 for an
        unknown client. Part of the strategy cache key."""

    # strategies (versioned; exactly one active per client) ---------------------------------
    async def insert_strategy(self, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
        """Store a strategy version and its history entry in one transaction; when
        ``strategy.active`` it becomes the only active one. ``Conflict`` (field "version")
        when the version exists: another writer was first, take the next number."""

    async def set_active_strategy(
        self, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
    ) -> Strategy | None:
        """Make this version the only active one and store the history entry; None when the
        client has no such version."""

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        """The given version, or the active one when ``version`` is None."""

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        """By version."""

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        """In the order stored."""

    # seo rules, preferences ------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule: ...

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        """In the order added."""

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool: ...

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        """Insert or replace the client's preference with the same key."""

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]: ...

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool: ...

    # prompt templates (versioned per client and content type) -------------------------------
    async def insert_template(self, template: PromptTemplate) -> PromptTemplate:
        """Store a template version; when ``template.active`` it becomes the only active one
        of its content type. ``Conflict`` (field "version") when the version exists."""

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        """The given version, or the active one when ``version`` is None."""

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]: ...


class JobStore(Protocol):
    """Jobs, their leases and prompt jobs."""

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
        under the lease's token; the job's budget reservations are deleted in it (its usage
        rows replace them). None = fenced out: nothing was written."""

    async def release_job(self, lease: Lease, *, usage: Sequence[LlmUsage] = ()) -> bool:
        """Hand the job back (``pending``) without counting the attempt; False if the lease
        was already lost. ``usage``: the calls already paid for, stored in the same step (and
        replacing the job's budget holds), as ``finish_job`` does."""

    async def store_fenced_usage(self, lease: Lease, usage: Sequence[LlmUsage]) -> int:
        """Store the usage rows of calls a runner paid for after it lost the job's lease (the
        job was cancelled, taken over after an expiry, or finished elsewhere): money spent stays
        recorded whatever became of the job. The rows must belong to ``lease.job_id`` and its
        client (``InvalidInput``; ``JobNotFound`` when the job is gone); they are stamped with
        the lease's attempt. A row whose id is stored already is skipped, so a repeated write
        stores nothing twice. The job, its lease and its budget holds are left as they are
        (holds end with the job). Returns the number of rows stored."""

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        """``pending``/``in_progress`` -> ``cancelled`` (the runner is fenced out);
        ``Conflict`` for a finished job."""

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        """``failed``/``cancelled`` -> ``pending`` as a new attempt with a fresh attempt
        budget; the attempts before stay in ``job_attempts``. ``Conflict`` otherwise."""

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        """Every claim of the job, oldest first."""

    # prompt jobs ---------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        """Insert or update by id."""

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None: ...


class UsageStore(Protocol):
    """Usage rows (written by ``JobStore.finish_job``), what is asked of them, and budgets:
    each client's own monthly limit and the reservations of calls in flight."""

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        """The job's rows in the order stored."""

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        """Rows added up per provider and model (``since`` <= created_at < ``until``), sorted
        by provider then model; money summed exactly."""

    async def usage_report(
        self,
        *,
        by: UsageGroup,
        client_ids: Sequence[uuid.UUID] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> UsageReport:
        """Usage rows and finished jobs added up per client, model or UTC day (see
        ``UsageLine``), for ``client_ids`` (None: all), ``since`` <= time < ``until``.
        Line keys: the client id, the model name, ``YYYY-MM-DD``; sorted by key."""

    # budgets (a monthly limit per client; inheritance is decided above, in ``budgets.py``)
    async def set_budget(self, client_id: uuid.UUID, limit_nanos: int | None) -> None:
        """Set the client's own budget (None removes it); ``ClientNotFound``."""

    async def list_budgets(self) -> dict[uuid.UUID, int]:
        """Every client's own budget."""

    async def budget_state(
        self, client_id: uuid.UUID, *, since: datetime, until: datetime
    ) -> BudgetState:
        """The client's spending in [``since``, ``until``) and its running jobs' holds."""

    async def reserve_budget(
        self,
        client_id: uuid.UUID,
        job_id: uuid.UUID,
        amount_nanos: int,
        *,
        limit_nanos: int,
        since: datetime,
        until: datetime,
    ) -> Reserved:
        """In one atomic step: hold ``amount_nanos`` for a call of ``job_id`` when
        spent + reserved + amount <= ``limit_nanos`` (``budget_state``), else refuse.
        A hold counts while its job is pending or in progress; ``finish_job`` deletes the
        job's holds in the transaction that stores its usage rows."""

    async def settle_reservation(self, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
        """Set a hold to what the call really cost (0 deletes it); False when it is gone."""


@runtime_checkable
class Storage(SetupStore, JobStore, UsageStore, Protocol):
    """Everything contentgen keeps: ``async with storage: ...``."""

    async def open(self) -> None:
        """Connect and apply pending migrations. Idempotent."""

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...
