"""Shared by the batch benchmarks: a generated CSV and one timed ``run_file`` call.

Not a benchmark itself (the leading underscore); the scripts import it from their own folder.
"""

from __future__ import annotations

import asyncio
import csv
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from contentgen.batch.runner import prepare_out_dir, run_file
from contentgen.cli.common import configure_logging
from contentgen.client.local import Client
from contentgen.llm.base import LLM, Completion, CompletionParams, TextCallback
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings

#: Named clients the generated CSV uses besides the default client (empty ``client`` cell).
CLIENTS = ("acme", "globex", "initech")
_TYPES = ("blog", "social", "local")
_KEYWORDS = ("solar;roof", "heat pump|efficiency", "insulation", "battery;storage|backup", "")


class InstantLLM(FakeLLM):
    """``FakeLLM`` (answers at once with an article built from the prompt) that forgets its
    calls: its ``history`` would otherwise keep every prompt of a 100,000-row run — memory of
    the test double, not of the batch."""

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:  # fmt: skip
        try:
            return await super().complete(prompt, model=model, params=params, on_text=on_text)
        finally:
            self.history.clear()


def write_csv(path: Path, rows: int) -> Path:
    """``rows`` distinct requests spread over the default client and ``CLIENTS``."""
    clients = ("", *CLIENTS)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["topic", "content_type", "client", "keywords", "length"])
        for i in range(rows):
            out.writerow([
                f"Practical guide number {i} to energy savings for small offices",
                _TYPES[i % len(_TYPES)], clients[i % len(clients)],
                _KEYWORDS[i % len(_KEYWORDS)], "short",
            ])  # fmt: skip
    return path


@dataclass
class RunResult:
    rows: int
    done: int
    failed: int
    wall: float
    cpu: float


async def timed_run(
    settings: Settings, csv_path: Path, out_dir: Path, *, concurrency: int, llm: LLM | None = None
) -> RunResult:
    """Open a client from ``settings``, add the clients, and time one ``run_file``.

    Logging is configured as the CLI does it (``settings.log_level``, WARNING by default).
    """
    configure_logging(settings.log_level)
    async with Client.from_settings(settings, llm=llm) as cg:
        for name in CLIENTS:
            await cg.add_client(name)
        prepare_out_dir(out_dir, resume=False)
        # Start-up, not per-row work (like opening the database): import the route's backend
        # (aiohttp and its TLS contexts: ~0.3 s of CPU once per process).
        await cg.router.check(model=settings.model)
        cpu0 = time.process_time()
        started = time.perf_counter()
        summary = await run_file(cg, csv_path, out_dir, concurrency=concurrency)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
    return RunResult(summary.done + summary.failed, summary.done, summary.failed, wall, cpu)


def run(settings: Settings, csv_path: Path, out_dir: Path, **kw: object) -> RunResult:
    return asyncio.run(timed_run(settings, csv_path, out_dir, **kw))  # type: ignore[arg-type]


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
