"""What one app holds: the client facade, token checks, metrics, the job watcher, workers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from contentgen.client.local import LocalClient
from contentgen.production.worker import Worker
from contentgen.server.events import JobWatcher
from contentgen.server.metrics import Metrics
from contentgen.server.security import TokenVerifier
from contentgen.server.status_cache import CompletedStatusCache
from contentgen.settings import Settings


@dataclass
class AppState:
    settings: Settings
    client: LocalClient
    verifier: TokenVerifier | None
    metrics: Metrics
    watcher: JobWatcher
    workers_in_process: int
    sse_ping: float
    worker: Worker | None = field(default=None)
    completed: CompletedStatusCache = field(default_factory=CompletedStatusCache)
    _views: dict[frozenset[uuid.UUID] | None, LocalClient] = field(default_factory=dict)

    def view(self, clients: frozenset[uuid.UUID] | None) -> LocalClient:
        """The client facade scoped to ``clients`` (one view per distinct scope, reused)."""
        found = self._views.get(clients)
        if found is None:
            if len(self._views) > 4096:
                self._views.clear()
            found = self._views[clients] = self.client.scoped(clients)
        return found

    def job_queued(self) -> None:
        if self.worker is not None:
            self.worker.wake()
