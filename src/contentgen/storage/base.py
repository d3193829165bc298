"""The ``Storage`` protocol: everything contentgen keeps.

Implementations: ``SqliteStorage`` (embedded default) and ``MemoryStorage`` (tests, embedding).
Both pass ``tests/storage/test_contract.py``.
"""

from __future__ import annotations

import uuid
from typing import Protocol, Self, runtime_checkable

from contentgen.models import (
    Client,
    ContentPreference,
    ContentResult,
    ContentType,
    Job,
    JobFilter,
    LlmUsage,
    PromptJob,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
)


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
    async def create_job(self, job: Job) -> Job: ...

    async def get_job(self, job_id: uuid.UUID) -> Job | None: ...

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        """Jobs whose id (canonical text form) starts with ``prefix``."""

    async def find_job_by_key(self, key: str) -> Job | None:
        """The newest job created for this request identity (``Job.request_key``)."""

    async def list_jobs(self, filt: JobFilter) -> list[Job]:
        """Newest first."""

    async def count_jobs(self, client_id: uuid.UUID) -> int: ...

    async def start_job(
        self, job_id: uuid.UUID, strategy_version: int | None, template_version: str | None
    ) -> bool:
        """pending -> in_progress; False if the job was not pending (someone else has it)."""

    async def complete_job(
        self, job_id: uuid.UUID, result: ContentResult, usage: list[LlmUsage]
    ) -> Job:
        """in_progress -> completed, storing result and usage rows in one transaction."""

    async def fail_job(self, job_id: uuid.UUID, error: str, usage: list[LlmUsage]) -> Job:
        """-> failed with a readable error (and the usage of calls that were paid for)."""

    async def requeue_stale(self) -> int:
        """Put in_progress jobs back to pending (after a crash); returns how many."""

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]: ...

    # prompt jobs ---------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        """Insert or update by id."""

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None: ...
