"""What one app holds: the client facade, token checks, metrics, the job watcher, workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from contentgen.client.local import LocalClient
from contentgen.server.events import JobWatcher
from contentgen.server.metrics import Metrics
from contentgen.server.security import TokenVerifier
from contentgen.server.worker import InProcessWorker
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
    worker: InProcessWorker | None = field(default=None)

    def job_queued(self) -> None:
        if self.worker is not None:
            self.worker.wake()
