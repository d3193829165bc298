"""Cold start of the CLI: median wall time of every command that calls no model.

Run: python benchmarks/cold_start.py [--runs 11] [--only jobs]
Target (issue 7, point 20): median <= 0.25 s for each, on the 2-core reference machine with
nothing else running. First come the floors: the same interpreter running a one-command Typer
app of one option (then with one pydantic model, then also printing a rich table after
importing asyncio and sqlite3, as every data command does): no command of ours can start faster
than the app that does what it does with the same libraries. Then two floors without Typer:
the interpreter validating one pydantic model (pydantic's import alone), and argparse printing
a rich table after importing asyncio and sqlite3 (what a command costs without Typer and
pydantic).

``COMMANDS`` must name every command of the CLI, or list it in ``NOT_MEASURED`` with the
reason (it calls a model, or runs until stopped): tests/test_cold_start_coverage.py checks
that against the command tree, so a new command is measured from the day it is added.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.25

#: label -> argv after `contentgen`; run in a home that holds one client `acme`, a strategy,
#: a rule, a preference, a template and a completed job (made by ``prepare``).
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "--version": ["--version"],
    "jobs": ["jobs"],
    "jobs --json": ["jobs", "--json"],
    "status": ["status", "last"],
    "prompt": ["prompt", "--topic", "Solar panels for offices", "-c", "acme"],
    "models": ["models"],
    "settings": ["settings"],
    "batch --dry-run": ["batch", "examples/batch.csv", "--dry-run"],
    "clients list": ["clients", "list"],
    "clients show": ["clients", "show", "acme"],
    "clients add": ["clients", "add", "acme"],
    "clients rename": ["clients", "rename", "acme", "acme"],
    "clients export": ["clients", "export", "acme"],
    "clients import": ["clients", "import", "examples/clients.yaml"],
    "clients remove": ["clients", "remove", "throwaway"],
    "strategies set": ["strategies", "set", "acme", "--voice", "warm"],
    "strategies show": ["strategies", "show", "acme"],
    "strategies list": ["strategies", "list", "acme"],
    "strategies history": ["strategies", "history", "acme"],
    "strategies activate": ["strategies", "activate", "acme", "1"],
    "rules set": ["rules", "set", "acme", "title", "Short titles."],
    "rules list": ["rules", "list", "acme"],
    "rules remove": ["rules", "remove", "acme", "title"],
    "prefs set": ["prefs", "set", "acme", "avoid", "jargon"],
    "prefs list": ["prefs", "list", "acme"],
    "prefs remove": ["prefs", "remove", "acme", "avoid"],
    "templates set": ["templates", "set", "acme", "blog", "examples/blog.j2"],
    "templates list": ["templates", "list", "acme"],
    "templates variables": ["templates", "variables"],
    "cache stats": ["cache", "stats"],
    "cache clear": ["cache", "clear"],
    "check": ["check", "examples/pieces/pizza-draft.md", "-c", "acme"],
    "jobs cancel": ["jobs", "cancel", "last"],
    "jobs retry": ["jobs", "retry", "last"],
    "jobs recover": ["jobs", "recover"],
    "tokens create": ["tokens", "create", "-c", "acme"],
    "db sql": ["db", "sql"],
    "budgets set": ["budgets", "set", "acme", "50"],
    "budgets show": ["budgets", "show", "acme"],
    "budgets list": ["budgets", "list"],
    "budgets remove": ["budgets", "remove", "acme"],
    "usage": ["usage"],
    "usage --by model": ["usage", "--by", "model"],
    "keys list": ["keys", "list"],
    "keys remove": ["keys", "remove", "anthropic"],
}
#: Commands not measured, and why.
NOT_MEASURED: dict[str, str] = {
    "generate": "calls a model (see batch_overhead.py for the cost of a call)",
    "batch": "calls a model without --dry-run (measured above with it)",
    "serve": "runs until stopped",
    "worker": "runs until stopped",
    "db migrate": "needs a PostgreSQL server (SQLite migrates itself on open)",
    "db status": "needs a PostgreSQL server",
    "keys set": "reads a key from a hidden prompt or stdin (keys list/remove are measured)",
}
#: Commands whose measured run may exit non-zero on purpose (e.g. removing a missing client).
MAY_FAIL = {"clients remove", "clients rename", "rules remove", "prefs remove",
            "check", "jobs cancel", "jobs retry"}  # (a failing piece, a finished job)


def contentgen() -> str:
    exe = Path(sys.executable).with_name("contentgen")
    if not exe.exists():
        sys.exit(f"{exe} not found: install the package (pip install -e .) first")
    return str(exe)


def prepare(exe: str, env: dict[str, str], cwd: Path) -> None:
    """One client with a setup and one finished job, so every command has data to show."""
    shutil.copytree(ROOT / "examples", cwd / "examples")
    for argv in (
        ["clients", "add", "acme"],
        ["strategies", "set", "acme", "examples/strategy.yaml"],
        ["generate", "--topic", "Solar panels for offices", "-c", "acme", "-m", "fake/writer"],
    ):
        subprocess.run([exe, *argv], env=env, cwd=cwd, check=True, capture_output=True)


def measure(argv: list[str], runs: int, env: dict[str, str], cwd: Path, may_fail: bool) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)  # fmt: skip
        times.append(time.perf_counter() - started)
        if done.returncode != 0 and not may_fail:
            sys.exit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


#: The floor under every command: a Typer app with one command of one option that prints a
#: line, run by the same interpreter (Typer >= 0.29 imports pydantic and builds a TypeAdapter
#: for each parameter it parses; ``pydantic_model`` adds one pydantic model as our commands
#: use, ``rich_table`` a rich table as they print).
FLOOR = {
    "typer, one option": "",
    "+ a pydantic model": "from pydantic import BaseModel\nclass M(BaseModel):\n    x: str\nM(x=o)",
    "+ rich table, asyncio, sqlite3": (
        "from pydantic import BaseModel\nclass M(BaseModel):\n    x: str\nM(x=o)\n"
        "import asyncio, sqlite3\nfrom rich.console import Console\nfrom rich.table import Table\n"
        "t = Table('x')\nt.add_row(o)\nConsole().print(t)"
    ),
}


#: Floors without Typer: what pydantic alone costs (every command of ours validates with it),
#: and what a command printing a rich table costs without Typer and pydantic (argparse).
BARE = {
    "python, one pydantic model": (
        "import sys\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    x: str\n"
        "print(M(x=sys.argv[1]).x)\n"
    ),
    "argparse, rich table, asyncio, sqlite3": (
        "import argparse, asyncio, sqlite3\nfrom rich.console import Console\n"
        "from rich.table import Table\np = argparse.ArgumentParser()\np.add_argument('cmd')\n"
        "t = Table('x')\nt.add_row(p.parse_args().cmd)\nConsole().print(t)\n"
    ),
}


def floor_app(body: str) -> str:
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    return (
        "from typing import Annotated\nimport typer\napp = typer.Typer()\n"
        "@app.callback()\ndef root() -> None: pass\n@app.command()\n"
        "def jobs(o: Annotated[str, typer.Option('-o')] = 'x') -> None:\n"
        f"{indented}    print(o)\n@app.command()\ndef other() -> None: pass\napp()\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--only", action="append", help="measure only these labels")
    args = parser.parse_args()
    exe = contentgen()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = dict(os.environ, CONTENTGEN_HOME=str(cwd / "home"), COLUMNS="100",
                   CONTENTGEN_JWT_SECRET="cold-start-benchmark-secret-0123456789")
        for key in ("CONTENTGEN_MODEL", "CONTENTGEN_API_BASE", "CONTENTGEN_SERVER_URL"):
            env.pop(key, None)
        prepare(exe, env, cwd)
        scripts = {label: floor_app(body) for label, body in FLOOR.items()} | BARE
        for label, script in scripts.items():
            if args.only:
                break
            (cwd / "floor.py").write_text(script)
            median = measure([sys.executable, str(cwd / "floor.py"), "jobs"], args.runs, env,
                             cwd, may_fail=False)  # fmt: skip
            print(f"floor: {label:38s} median {median:.3f} s")
        worst = 0.0
        for label, argv in COMMANDS.items():
            if args.only and label not in args.only:
                continue
            median = measure([exe, *argv], args.runs, env, cwd, label in MAY_FAIL)
            worst = max(worst, median)
            flag = "" if median <= TARGET else "  > target"
            print(f"contentgen {label:22s} median {median:.3f} s{flag}")
        print(f"slowest {worst:.3f} s; target <= {TARGET} s:",
              "met" if worst <= TARGET else "NOT met")  # fmt: skip


if __name__ == "__main__":
    main()
