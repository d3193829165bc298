"""Batch throughput with an instant fake provider, end to end through SQLite.

Run: python benchmarks/batch_throughput.py [--rows 5000] [--concurrency 32]
Target (issue 4): >= 500 jobs/s on the 2-core reference machine.

Everything but the model is real: the CSV is read and validated, each row becomes a job in
SQLite (the default storage, in a temporary CONTENTGEN_HOME, with the default disk cache),
the prompt is built from the client's strategy, a ``FakeLLM`` answers at once, the result is
analysed and stored, and a Markdown file plus a results.csv line are written per row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _batch_common import InstantLLM, run, write_csv

from contentgen.settings import Settings

TARGET = 500.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(home=home / "home", model="openai/gpt-4o-mini")
        csv_path = write_csv(home / "rows.csv", args.rows)
        result = run(settings, csv_path, home / "out", concurrency=args.concurrency,
                     llm=InstantLLM())  # fmt: skip
        files = len(list((home / "out").glob("*.md")))
    if result.done != args.rows or files != args.rows:
        sys.exit(f"expected {args.rows} completed rows and files, got {result.done} "
                 f"completed, {result.failed} failed, {files} files")  # fmt: skip
    rate = result.rows / result.wall
    per_row = 1000 * result.cpu / result.rows
    print(f"rows {result.rows}  concurrency {args.concurrency}  wall {result.wall:.2f} s  "
          f"cpu {result.cpu:.2f} s  ({per_row:.3f} ms cpu/row)")  # fmt: skip
    print(f"throughput {rate:.0f} jobs/s  (target >= {TARGET:.0f}: "
          f"{'met' if rate >= TARGET else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
