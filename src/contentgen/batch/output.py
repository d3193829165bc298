"""Batch outputs: one Markdown file per row (YAML front matter), results.csv, rejected.csv,
and the per-client summary. Rows are written as they finish; nothing is held per row."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from contentgen.batch import front_matter as yaml_head
from contentgen.batch.csv_input import Rejection
from contentgen.models import Job, JobStatus

RESULT_COLUMNS = [
    "row", "job_id", "status", "output_file", "words", "cost", "compliance", "error",
]  # fmt: skip


def compliance_score(job: Job) -> float | None:
    """The piece's compliance score (share of its strategy's checks passed), if measured."""
    report = job.result.metadata.compliance if job.result else None
    return report.score if report is not None else None


def slug(text: str, limit: int = 50) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:limit].rstrip("-") or "piece"


def output_name(row: int, topic: str, fmt: str) -> str:
    return f"{row:05d}-{slug(topic)}.{fmt}"


def front_matter(job: Job, client_name: str) -> dict[str, Any]:
    assert job.result is not None
    meta = job.result.metadata
    return {
        "title": job.result.title,
        "client": client_name,
        "content_type": job.params.content_type.value,
        "keywords": list(job.params.keywords),
        "model": meta.model,
        "cost": meta.generation_cost,
        "word_count": meta.word_count,
        "compliance": compliance_score(job),
        "strategy_version": job.strategy_version,
        "job_id": str(job.id),
    }


def write_piece(directory: Path, name: str, job: Job, client_name: str, fmt: str) -> Path:
    """Write atomically (temp file + rename), so a crash never leaves half a file."""
    assert job.result is not None
    path = directory / name
    if fmt == "json":
        body = json.dumps(job.status_view() | {"client": client_name}, indent=2) + "\n"
    else:
        head = yaml_head.dump(front_matter(job, client_name))
        body = f"---\n{head}---\n\n{job.result.content}"
    tmp = path.with_suffix(path.suffix + ".tmp")
    _write_bytes(tmp, body.encode("utf-8"))
    os.replace(tmp, path)
    return path


def _write_bytes(path: Path, data: bytes) -> None:
    """``path.write_bytes`` without the buffered file object (half its cost; one per row)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class ResultsWriter:
    """results.csv, one line per row as it finishes (flushed, so a crash loses nothing)."""

    def __init__(self, path: Path) -> None:
        self._handle: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle)
        self._csv.writerow(RESULT_COLUMNS)

    def add(self, row: int, job: Job, output_file: str) -> None:
        meta = job.result.metadata if job.result else None
        self._csv.writerow([
            row, job.id, job.status.value, output_file,
            meta.word_count if meta else "", f"{meta.generation_cost:.8f}" if meta else "",
            "" if (score := compliance_score(job)) is None else f"{score:.3f}",
            job.error or "",
        ])  # fmt: skip
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class RejectedWriter:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self._columns = columns
        self._handle: IO[str] | None = None
        self._csv: Any = None
        self.count = 0

    def add(self, rejection: Rejection) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._csv = csv.writer(self._handle)
            self._csv.writerow(["row", "column", "reason", *self._columns])
        self._csv.writerow([rejection.number, rejection.column, rejection.reason,
                            *(rejection.raw.get(c, "") for c in self._columns)])  # fmt: skip
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self.path.exists():
            self.path.unlink()  # no rejections this run: drop an old file


@dataclass
class ClientTotals:
    pieces: int = 0
    words: int = 0
    cost: float = 0.0
    failures: int = 0


@dataclass
class Summary:
    """Totals per client (memory grows with clients, not rows)."""

    clients: dict[str, ClientTotals] = field(default_factory=dict)
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cost: float = 0.0

    def add(self, client: str, job: Job, *, reused: bool) -> None:
        totals = self.clients.setdefault(client, ClientTotals())
        if job.status is JobStatus.COMPLETED and job.result is not None:
            totals.pieces += 1
            totals.words += job.result.metadata.word_count
            if reused:
                self.skipped += 1
            else:
                totals.cost += job.result.metadata.generation_cost
                self.cost += job.result.metadata.generation_cost
            self.done += 1
        else:
            totals.failures += 1
            self.failed += 1
