"""``MemoryStorage``: the in-process fake, with exactly the semantics of ``SqliteStorage``.

For tests and embedding. Everything lives in dicts; every model handed in is copied before it is
kept and every model handed out is a copy, so callers can never change stored state by mutating
what they hold. Orders match the SQL backend: ties on timestamps fall back to insertion order.
"""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from contentgen.errors import ClientNotFound
from contentgen.models import (
    Client,
    ContentPreference,
    ContentType,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage._memory_budgets import MemoryBudgets
from contentgen.storage._memory_jobs import clone, clones
from contentgen.storage._rows import name_key


class _Owned(Protocol):
    @property
    def client_id(self) -> uuid.UUID: ...


Owned = TypeVar("Owned", bound=_Owned)


def _drop(store: dict[uuid.UUID, Owned], client_id: uuid.UUID) -> None:
    for key in [k for k, v in store.items() if v.client_id == client_id]:
        del store[key]


class MemoryStorage(MemoryBudgets):
    """Async ``Storage`` in memory; data lives as long as the object (also across reopen)."""

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[str, uuid.UUID] = {}
        self._strategies: dict[uuid.UUID, list[Strategy]] = {}
        self._history: dict[uuid.UUID, list[StrategyHistoryEntry]] = {}
        self._rules: dict[uuid.UUID, SeoRule] = {}
        self._prefs: dict[uuid.UUID, ContentPreference] = {}
        self._templates: dict[uuid.UUID, list[PromptTemplate]] = {}
        self._revisions: dict[uuid.UUID, int] = {}

    # clients ------------------------------------------------------------------------------------
    async def add_client(self, client: Client) -> Client:
        self._check()
        async with self._lock:
            if client.id in self._clients:
                raise checks.duplicate("client", client.id)
            if name_key(client.name) in self._names:
                raise checks.name_taken(client.name)
            if client.parent_id is not None:
                self._require_client(client.parent_id)
            self._clients[client.id] = clone(client)
            self._names[name_key(client.name)] = client.id
            self._bump(client.id)
        return client

    async def get_client(self, client_id: uuid.UUID) -> Client | None:
        self._check()
        found = self._clients.get(client_id)
        return None if found is None else clone(found)

    async def get_client_by_name(self, name: str) -> Client | None:
        self._check()
        client_id = self._names.get(name_key(name))
        return None if client_id is None else clone(self._clients[client_id])

    async def list_clients(self) -> list[Client]:
        self._check()
        return clones(sorted(self._clients.values(), key=lambda c: name_key(c.name)))

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client:
        self._check()
        async with self._lock:
            current = self._clients.get(client_id)
            if current is None:
                raise ClientNotFound(str(client_id))
            new = checks.renamed(current, name)
            owner = self._names.get(name_key(new.name))
            if owner is not None and owner != client_id:
                raise checks.name_taken(new.name)
            del self._names[name_key(current.name)]
            self._names[name_key(new.name)] = client_id
            self._clients[client_id] = new
            self._bump(client_id)  # templates may use the client's name
        return clone(new)

    async def delete_client(self, client_id: uuid.UUID) -> None:
        self._check()
        async with self._lock:
            client = self._clients.get(client_id)
            if client is None:
                raise ClientNotFound(str(client_id))
            children = sum(1 for c in self._clients.values() if c.parent_id == client_id)
            if children:
                raise checks.has_children(client_id, children)
            for job_id in [k for k, j in self._jobs.items() if j.client_id == client_id]:
                for per_job in (self._seq, self._leases, self._attempts):
                    per_job.pop(job_id, None)
            _drop(self._jobs, client_id)
            _drop(self._usage, client_id)
            _drop(self._reservations, client_id)
            self._budgets.pop(client_id, None)
            _drop(self._rules, client_id)
            _drop(self._prefs, client_id)
            for key in [k for k, p in self._prompt_jobs.items() if p.params.client_id == client_id]:
                del self._prompt_jobs[key]
            for per_client in (self._strategies, self._history, self._templates):
                per_client.pop(client_id, None)
            del self._names[name_key(client.name)]
            del self._clients[client_id]
            self._revisions.pop(client_id, None)

    async def setup_revision(self, client_id: uuid.UUID) -> int:
        self._check()
        revision, current, depth = 0, self._clients.get(client_id), 0
        while current is not None and depth <= 64:
            revision = max(revision, self._revisions.get(current.id, 0))
            parent = current.parent_id
            current, depth = (None if parent is None else self._clients.get(parent)), depth + 1
        return revision

    def _bump(self, client_id: uuid.UUID) -> None:
        """Like the SQL backends: the next database-wide revision."""
        self._revisions[client_id] = max(self._revisions.values(), default=0) + 1

    # strategies -------------------------------------------------------------------------------
    async def insert_strategy(self, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
        self._check()
        checks.check_history(strategy, entry)
        async with self._lock:
            self._require_client(strategy.client_id)
            versions = self._strategies.setdefault(strategy.client_id, [])
            if any(s.version == strategy.version for s in versions):
                raise checks.version_taken("strategy", strategy.version)
            if any(s.id == strategy.id for all_s in self._strategies.values() for s in all_s):
                raise checks.duplicate("strategy", strategy.id)
            if strategy.active:
                for s in versions:
                    s.active = False
            versions.append(clone(strategy))
            self._history.setdefault(strategy.client_id, []).append(clone(entry))
            self._bump(strategy.client_id)
        return strategy

    async def set_active_strategy(
        self, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
    ) -> Strategy | None:
        self._check()
        async with self._lock:
            versions = self._strategies.get(client_id, [])
            found = next((s for s in versions if s.version == version), None)
            if found is None:
                return None
            checks.check_history(found, entry)
            for s in versions:
                s.active = s.version == version
            self._history.setdefault(client_id, []).append(clone(entry))
            self._bump(client_id)
            return clone(found)

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        self._check()
        for s in self._strategies.get(client_id, []):
            if s.active if version is None else s.version == version:
                return clone(s)
        return None

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        self._check()
        return clones(sorted(self._strategies.get(client_id, []), key=lambda s: s.version))

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        self._check()
        return clones(self._history.get(client_id, []))

    # seo rules, preferences ------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        self._check()
        async with self._lock:
            self._require_client(rule.client_id)
            if any(
                r.client_id == rule.client_id and r.name == rule.name for r in self._rules.values()
            ):
                raise checks.rule_taken(rule.name)
            if rule.id in self._rules:
                raise checks.duplicate("seo rule", rule.id)
            self._rules[rule.id] = clone(rule)
            self._bump(rule.client_id)
        return rule

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        self._check()
        return clones([r for r in self._rules.values() if r.client_id == client_id])

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool:
        self._check()
        async with self._lock:
            for key, r in self._rules.items():
                if r.client_id == client_id and r.name == name:
                    del self._rules[key]
                    self._bump(client_id)
                    return True
        return False

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        self._check()
        async with self._lock:
            self._require_client(pref.client_id)
            old = next(
                (
                    p
                    for p in self._prefs.values()
                    if (p.client_id, p.key) == (pref.client_id, pref.key)
                ),
                None,
            )
            taken = self._prefs.get(pref.id)
            if taken is not None and taken is not old:
                raise checks.duplicate("preference", pref.id)
            if old is not None:
                del self._prefs[old.id]
            self._prefs[pref.id] = clone(pref)
            self._bump(pref.client_id)
        return pref

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]:
        self._check()
        mine = [p for p in self._prefs.values() if p.client_id == client_id]
        return clones(sorted(mine, key=lambda p: p.key))

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool:
        self._check()
        async with self._lock:
            for pid, p in self._prefs.items():
                if p.client_id == client_id and p.key == key:
                    del self._prefs[pid]
                    self._bump(client_id)
                    return True
        return False

    # prompt templates -------------------------------------------------------------------------
    async def insert_template(self, template: PromptTemplate) -> PromptTemplate:
        self._check()
        async with self._lock:
            self._require_client(template.client_id)
            all_types = self._templates.setdefault(template.client_id, [])
            same = [t for t in all_types if t.content_type == template.content_type]
            if any(t.version == template.version for t in same):
                kind = f"{template.content_type.value} template"
                raise checks.version_taken(kind, template.version)
            if template.active:
                for t in same:
                    t.active = False
            all_types.append(clone(template))
            self._bump(template.client_id)
        return template

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        self._check()
        for t in self._templates.get(client_id, []):
            if t.content_type == content_type and (
                t.active if version is None else t.version == version
            ):
                return clone(t)
        return None

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]:
        self._check()
        mine = self._templates.get(client_id, [])
        return clones(sorted(mine, key=lambda t: (t.content_type.value, t.version)))
