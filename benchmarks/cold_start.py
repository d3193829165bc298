"""Cold start of the CLI: median wall time of `contentgen --help` and `contentgen jobs`.

Run: python benchmarks/cold_start.py [--runs 15]
Target (issue 2): median <= 0.25 s each on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("contentgen")
    if not exe.exists():
        sys.exit(f"{exe} not found: install the package (pip install -e .) first")
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, CONTENTGEN_HOME=home)
        subprocess.run([str(exe), "jobs"], env=env, check=True, stdout=subprocess.DEVNULL)
        ok = True
        for label, cmd in (("contentgen --help", [str(exe), "--help"]),
                           ("contentgen jobs", [str(exe), "jobs"])):  # fmt: skip
            times = measure(cmd, args.runs, env)
            median = statistics.median(times)
            ok &= median <= 0.25
            print(f"{label:20s} median {median:.3f} s  min {min(times):.3f} s  "
                  f"max {max(times):.3f} s  ({args.runs} runs)")  # fmt: skip
        print("target <= 0.25 s:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
