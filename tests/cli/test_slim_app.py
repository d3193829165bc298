"""`contentgen NAME ...` builds only NAME's part of the command tree (cold start, issue 7
point 20): what a user sees must be the same as with the whole tree, for every command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from contentgen.cli.app import app, invoked_command, only

FULL = get_command(app)
NAMES = sorted(FULL.commands)  # type: ignore[attr-defined]


def paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, child in (getattr(command, "commands", None) or {}).items():
        yield from paths(child, (*path, name))


ALL_PATHS = [p for p in paths(FULL) if p]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["jobs"], "jobs"),
        (["jobs", "list", "--json"], "jobs"),
        (["--server", "http://x", "clients", "list"], "clients"),
        (["--server=http://x", "status", "last"], "status"),
        ([], None),
        (["--help"], None),
        (["-h"], None),
        (["--version"], None),
        (["--install-completion"], None),
        (["jbos"], None),  # not a command: the whole app says so, with its suggestions
        (["--server"], None),
    ],
)
def test_the_invoked_command_is_found(argv: list[str], expected: str | None) -> None:
    assert invoked_command(argv) == expected


def test_completion_always_gets_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_CONTENTGEN_COMPLETE", "bash_complete")
    assert invoked_command(["jobs"]) is None


@pytest.mark.parametrize("name", NAMES)
def test_the_slim_app_holds_exactly_the_command(name: str) -> None:
    slim = get_command(only(name))
    assert sorted(slim.commands) == [name]  # type: ignore[attr-defined]
    assert [p.name for p in slim.params] == [p.name for p in FULL.params]


@pytest.mark.parametrize("path", ALL_PATHS, ids=[" ".join(p) for p in ALL_PATHS])
def test_help_is_the_same_as_with_the_whole_tree(path: tuple[str, ...]) -> None:
    runner = CliRunner()
    whole = runner.invoke(app, [*path, "--help"], prog_name="contentgen")
    slim = runner.invoke(only(path[0]), [*path, "--help"], prog_name="contentgen")
    assert whole.exit_code == slim.exit_code == 0
    assert slim.output == whole.output


def test_the_installed_entry_point_runs_the_slim_app(tmp_path: Any) -> None:
    env = dict(os.environ, CONTENTGEN_HOME=str(tmp_path / "home"), COLUMNS="100")
    env.pop("CONTENTGEN_SERVER_URL", None)
    code = (
        "import sys, typer.main as tm; seen = [];"
        "orig = tm.get_command;"
        "tm.get_command = lambda a: seen.append(sorted(i.name for i in a.registered_groups)) "
        "or orig(a);"
        "import contentgen.cli.app as ca;"
        "sys.argv = ['contentgen', 'clients', 'list', '--json'];"
        "import atexit; atexit.register(lambda: print(seen, file=sys.stderr));"
        "ca.main()"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("[")  # the client list, as JSON
    assert "[['clients']]" in done.stderr
