"""``SqliteStorage``: the embedded default backend (stdlib ``sqlite3``).

Each method hands one synchronous function (``_sqlite_clients``, ``_sqlite_setup``,
``_sqlite_jobs``, ``_sqlite_leases``, ``_sqlite_usage``) to the storage's worker thread
(``_sqlite_worker``). Several processes may share one file: every read-then-write runs in a
``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

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
from contentgen.storage import _sqlite_budgets as budgets
from contentgen.storage import _sqlite_clients as clients
from contentgen.storage import _sqlite_jobs as jobs
from contentgen.storage import _sqlite_leases as leases
from contentgen.storage import _sqlite_setup as setup
from contentgen.storage import _sqlite_usage as usage_sql
from contentgen.storage._sqlite_worker import SqliteWorker
from contentgen.storage.base import BudgetState, ClaimedJob, Lease, Reserved


class SqliteStorage(SqliteWorker):
    """Async ``Storage`` in a SQLite file; ``async with SqliteStorage(path) as storage: ...``."""

    # clients ------------------------------------------------------------------------------------
    async def add_client(self, client: Client) -> Client:
        return await self._call(lambda c: clients.add_client(c, client))

    async def get_client(self, client_id: uuid.UUID) -> Client | None:
        return await self._call(lambda c: clients.get_client(c, client_id))

    async def get_client_by_name(self, name: str) -> Client | None:
        return await self._call(lambda c: clients.get_client_by_name(c, name))

    async def list_clients(self) -> list[Client]:
        return await self._call(clients.list_clients)

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client:
        return await self._call(lambda c: clients.rename_client(c, client_id, name))

    async def delete_client(self, client_id: uuid.UUID) -> None:
        await self._call(lambda c: clients.delete_client(c, client_id))

    async def setup_revision(self, client_id: uuid.UUID) -> int:
        return await self._call(lambda c: clients.setup_revision(c, client_id))

    # strategies -------------------------------------------------------------------------------
    async def insert_strategy(self, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
        return await self._call(lambda c: setup.insert_strategy(c, strategy, entry))

    async def set_active_strategy(
        self, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
    ) -> Strategy | None:
        return await self._call(lambda c: setup.set_active_strategy(c, client_id, version, entry))

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        return await self._call(lambda c: setup.get_strategy(c, client_id, version))

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        return await self._call(lambda c: setup.list_strategies(c, client_id))

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        return await self._call(lambda c: setup.strategy_history(c, client_id))

    # seo rules, preferences ------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        return await self._call(lambda c: setup.add_seo_rule(c, rule))

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        return await self._call(lambda c: setup.list_seo_rules(c, client_id))

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool:
        return await self._call(lambda c: setup.delete_seo_rule(c, client_id, name))

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        return await self._call(lambda c: setup.set_preference(c, pref))

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]:
        return await self._call(lambda c: setup.list_preferences(c, client_id))

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool:
        return await self._call(lambda c: setup.delete_preference(c, client_id, key))

    # prompt templates -------------------------------------------------------------------------
    async def insert_template(self, template: PromptTemplate) -> PromptTemplate:
        return await self._call(lambda c: setup.insert_template(c, template))

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        return await self._call(lambda c: setup.get_template(c, client_id, content_type, version))

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]:
        return await self._call(lambda c: setup.list_templates(c, client_id))

    # jobs -------------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        return await self._call(lambda c: jobs.create_job(c, job))

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        return await self._call(lambda c: jobs.get_job(c, job_id))

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        return await self._call(lambda c: jobs.find_jobs_by_prefix(c, prefix.lower(), limit))

    async def find_job_by_key(self, key: str) -> Job | None:
        return await self._call(lambda c: jobs.find_job_by_key(c, key))

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        return await self._call(lambda c: jobs.list_jobs(c, filt))

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        return await self._call(lambda c: jobs.count_jobs(c, client_id))

    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        return await self._call(lambda c: jobs.save_prompt_job(c, job))

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        return await self._call(lambda c: jobs.get_prompt_job(c, job_id))

    # leases -----------------------------------------------------------------------------------
    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        return await self._call(
            lambda c: leases.claim_jobs(c, holder, limit, lease_seconds, max_attempts, job_id)
        )

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        return await self._call(lambda c: leases.heartbeat(c, lease, lease_seconds))

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
        rows = tuple(usage)
        return await self._call(
            lambda c: leases.finish_job(
                c, lease, status, result, error, rows, strategy_version, template_version
            )
        )

    async def release_job(self, lease: Lease, *, usage: Sequence[LlmUsage] = ()) -> bool:
        return await self._call(lambda c: leases.release_job(c, lease, usage))

    async def store_fenced_usage(self, lease: Lease, usage: Sequence[LlmUsage]) -> int:
        rows = tuple(usage)
        return await self._call(lambda c: leases.store_fenced_usage(c, lease, rows))

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        return await self._call(lambda c: leases.cancel_job(c, job_id))

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        return await self._call(lambda c: leases.retry_job(c, job_id))

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        return await self._call(lambda c: leases.job_attempts(c, job_id))

    # usage ------------------------------------------------------------------------------------
    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        return await self._call(lambda c: usage_sql.list_usage(c, job_id))

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        return await self._call(lambda c: usage_sql.usage_summary(c, client_id, since, until))

    async def usage_report(
        self,
        *,
        by: UsageGroup,
        client_ids: Sequence[uuid.UUID] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> UsageReport:
        ids = None if client_ids is None else tuple(client_ids)
        return await self._call(lambda c: budgets.usage_report(c, by, ids, since, until))

    # budgets ----------------------------------------------------------------------------------
    async def set_budget(self, client_id: uuid.UUID, limit_nanos: int | None) -> None:
        await self._call(lambda c: budgets.set_budget(c, client_id, limit_nanos))

    async def list_budgets(self) -> dict[uuid.UUID, int]:
        return await self._call(budgets.list_budgets)

    async def budget_state(
        self, client_id: uuid.UUID, *, since: datetime, until: datetime
    ) -> BudgetState:
        return await self._call(lambda c: budgets.budget_state(c, client_id, since, until))

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
        return await self._call(
            lambda c: budgets.reserve_budget(
                c, client_id, job_id, amount_nanos, limit_nanos, since, until
            )
        )

    async def settle_reservation(self, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
        return await self._call(
            lambda c: budgets.settle_reservation(c, reservation_id, amount_nanos)
        )
