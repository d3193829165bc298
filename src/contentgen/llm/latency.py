"""Observed latency per model (the ``speed`` priority routes by its median).

Kept in memory for the process, over the last ``WINDOW`` successful calls of each model, and
saved to ``latency.json`` in the data dir when the router closes (read back at the next
start), so routing by speed works from the first call of a new process.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections import deque
from pathlib import Path

from contentgen.logs import get_logger

WINDOW = 200
FILE_NAME = "latency.json"


class LatencyStats:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._samples: dict[str, deque[int]] = {}
        self._dirty = False

    @classmethod
    def load(cls, path: Path | None) -> LatencyStats:
        stats = cls(path)
        if path is None or not path.is_file():
            return stats
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for model, values in dict(data).items():
                stats._samples[str(model)] = deque((int(v) for v in values), maxlen=WINDOW)
        except (OSError, ValueError, TypeError) as exc:  # a cache: never blocks work
            get_logger().warning("latency_file_unreadable", path=str(path), error=str(exc))
            stats._samples.clear()
        return stats

    def observe(self, model: str, latency_ms: int) -> None:
        samples = self._samples.get(model)
        if samples is None:
            samples = self._samples[model] = deque(maxlen=WINDOW)
        samples.append(latency_ms)
        self._dirty = True

    def p50(self, model: str) -> float | None:
        samples = self._samples.get(model)
        return float(statistics.median(samples)) if samples else None

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({m: list(s) for m, s in self._samples.items()}),
                           encoding="utf-8")  # fmt: skip
            tmp.replace(self.path)
            self._dirty = False
