"""The rules of versioned setup, written once above every backend.

A new strategy or template is the client's latest version + 1 and becomes the active one; a
strategy's creation and every activation is logged in its history. Backends only store what
they are given, atomically (``SetupStore.insert_strategy`` & co.); when two writers pick the
same number, the store refuses the second (``Conflict`` on field "version") and it takes the
next number.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from contentgen.errors import Conflict
from contentgen.models import (
    ContentType,
    PromptTemplate,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage.base import SetupStore

#: Versions tried before giving up when other writers keep taking the next number.
TRIES = 20


def _is_version_clash(exc: Conflict) -> bool:
    return exc.details.get("field") == "version"


async def add_strategy(
    store: SetupStore,
    client_id: uuid.UUID,
    name: str,
    config: StrategyConfig,
    changes: Sequence[str] = (),
) -> Strategy:
    """Store ``config`` as the client's next strategy version, active, with a "created"
    history entry listing ``changes``."""
    for _ in range(TRIES):
        versions = await store.list_strategies(client_id)
        strategy = Strategy(
            client_id=client_id,
            name=name,
            config=config.model_copy(deep=True),
            version=max((s.version for s in versions), default=0) + 1,
            active=True,
        )
        entry = StrategyHistoryEntry(
            strategy_id=strategy.id,
            client_id=client_id,
            version=strategy.version,
            action="created",
            changes=list(changes),
            created_at=strategy.created_at,
        )
        try:
            return await store.insert_strategy(strategy, entry)
        except Conflict as exc:
            if not _is_version_clash(exc):
                raise
    raise Conflict(f"strategy: could not store a new version of client {client_id}; retry")


async def activate_strategy(store: SetupStore, client_id: uuid.UUID, version: int) -> Strategy:
    """Make an existing version the active one, with an "activated" history entry."""
    found = await store.get_strategy(client_id, version)
    if found is not None:
        entry = StrategyHistoryEntry(
            strategy_id=found.id, client_id=client_id, version=version, action="activated"
        )
        active = await store.set_active_strategy(client_id, version, entry)
        if active is not None:
            return active
    raise checks.strategy_not_found(client_id, version)


async def add_template(
    store: SetupStore, client_id: uuid.UUID, content_type: ContentType, body: str
) -> PromptTemplate:
    """Store ``body`` as the client's next template version for the content type, active."""
    for _ in range(TRIES):
        same = [t for t in await store.list_templates(client_id) if t.content_type == content_type]
        template = PromptTemplate(
            client_id=client_id,
            content_type=content_type,
            body=body,
            version=max((t.version for t in same), default=0) + 1,
            active=True,
        )
        try:
            return await store.insert_template(template)
        except Conflict as exc:
            if not _is_version_clash(exc):
                raise
    raise Conflict(f"template: could not store a new version of client {client_id}; retry")
