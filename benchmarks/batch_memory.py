"""Batch memory: peak RSS for 10,000 and 100,000 rows with an instant fake provider.

Run: python benchmarks/batch_memory.py [--sizes 10000 100000] [--concurrency 32]
Target (issue 4): peak RSS for 100,000 rows <= 300 MB and within 20% of the 10,000-row peak
(memory stays flat however long the file is).

Each size runs in a fresh subprocess (this script with ``--child N``), which reads its own peak
RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after the run: everything is real but the
model — CSV streaming, SQLite in a temporary CONTENTGEN_HOME, one Markdown file per row and
results.csv — as in batch_throughput.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MB = 300.0
TARGET_GROWTH = 0.20


def child(rows: int, concurrency: int) -> None:
    from _batch_common import InstantLLM, peak_rss_mb, run, write_csv

    from contentgen.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(home=home / "home", model="openai/gpt-4o-mini")
        csv_path = write_csv(home / "rows.csv", rows)
        result = run(settings, csv_path, home / "out", concurrency=concurrency, llm=InstantLLM())
        peak = peak_rss_mb()  # before the temporary files are removed; they are not in RSS
    print(json.dumps({"rows": rows, "done": result.done, "failed": result.failed,
                      "wall": result.wall, "peak_mb": peak}))  # fmt: skip


def measure(rows: int, concurrency: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(rows), "--concurrency", str(concurrency)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if data["done"] != rows:
        sys.exit(f"{rows} rows: {data['done']} completed, {data['failed']} failed")
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.concurrency)
        return
    small, large = (measure(n, args.concurrency) for n in args.sizes)
    for data in (small, large):
        print(f"rows {int(data['rows']):>7,}  peak RSS {data['peak_mb']:6.1f} MB  "
              f"({data['wall']:.1f} s, {data['rows'] / data['wall']:.0f} jobs/s)")  # fmt: skip
    ratio = large["peak_mb"] / small["peak_mb"]
    ok = large["peak_mb"] <= TARGET_MB and ratio <= 1 + TARGET_GROWTH
    print(f"ratio {ratio:.3f}  (target: <= {TARGET_MB:.0f} MB and <= {1 + TARGET_GROWTH:.2f}: "
          f"{'met' if ok else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
