"""Issue 7, point 20: benchmarks/cold_start.py measures every command that calls no model —
a command added to the CLI must be added there (or to NOT_MEASURED, with the reason)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from typer.main import get_command

from contentgen.cli.app import app

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "cold_start.py"


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> list[str]:
    children = getattr(command, "commands", None)
    if not children:
        return [" ".join(path)]
    return [name for n, c in children.items() for name in leaf_commands(c, (*path, n))]


def test_every_command_is_measured_or_excused() -> None:
    spec = importlib.util.spec_from_file_location("cold_start", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    measured = {" ".join(a for a in argv if not a.startswith("-") or a == "--help")
                for argv in bench.COMMANDS.values()}  # fmt: skip
    for name in leaf_commands(get_command(app)):
        covered = any(m == name or m.startswith(name + " ") for m in measured)
        assert covered or name in bench.NOT_MEASURED, f"`contentgen {name}` is not measured"
    assert set(bench.NOT_MEASURED) <= {*leaf_commands(get_command(app)), "serve", "worker"}
