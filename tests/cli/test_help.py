"""Issue 7, points 16 and 17: the CLI a user expects — help on every option, readable metavars,
choices that name the option, --version, shell completion, --json on every command that
prints data, `status` showing the piece, stdin for topics and files, `jobs` at 80 columns.

The walks over the command tree cover commands added later too: a new command must give its
options help text and metavars, and take --json unless it is listed in ``NO_DATA``."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from contentgen.cli import options
from contentgen.cli.app import app
from contentgen.models import ContentType, JobStatus, Length, Priority
from contentgen.testing import FakeOpenAIServer

Cli = Callable[..., Result]
ROOT = get_command(app)
#: Commands that print no data (long-running processes): the only ones without --json.
NO_DATA = {"serve", "worker"}


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    children = getattr(command, "commands", None)
    if children:
        for name, child in children.items():
            yield from walk(child, (*path, name))
    else:
        yield path, command


COMMANDS = list(walk(ROOT))
IDS = [" ".join(path) for path, _ in COMMANDS]


def params(command: Any) -> list[tuple[Any, Any]]:
    ctx = command.context_class(command, info_name=command.name)
    return [(p, ctx) for p in command.get_params(ctx) if p.name != "help"]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_has_help_text_and_a_readable_metavar(path: Any, command: Any) -> None:
    assert command.help, f"{path}: no help text"
    for param, ctx in params(command):
        assert param.help, f"{' '.join(path)} {param.name}: no help text"
        if param.param_type_name != "option":
            continue
        names, _ = param.get_help_record(ctx)
        assert "<" not in names and "bool" not in names, f"{' '.join(path)}: {names}"
        if param.is_flag:
            assert names.split()[-1].startswith("-"), f"flag with a metavar: {names}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_that_prints_data_takes_json(path: Any, command: Any) -> None:
    if path[-1] in NO_DATA:
        return
    flags = {opt for param, _ in params(command) for opt in getattr(param, "opts", [])}
    assert "--json" in flags, f"`contentgen {' '.join(path)}` has no --json"


def test_the_help_of_every_command_shows_no_type_placeholders(runner: CliRunner) -> None:
    for path, _ in [((), ROOT), *COMMANDS]:
        shown = runner.invoke(app, [*path, "--help"]).stdout
        for placeholder in ("<bool>", "<list[", "<str>", "<int>", "<float>"):
            options_part = shown.split("Options:", 1)[-1]
            assert placeholder not in options_part, (path, shown)


def test_choices_are_the_enums() -> None:
    pairs: list[tuple[Any, Any]] = [
        (options.ContentTypeName, ContentType), (options.LengthName, Length),
        (options.PriorityName, Priority), (options.StatusName, JobStatus),
    ]  # fmt: skip
    for literal, enum in pairs:
        assert list(typing.get_args(literal)) == [e.value for e in enum]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["generate", "--topic", "Solar panels", "--type", "video"], "--type"),
        (["generate", "--topic", "Solar panels", "--length", "epic"], "--length"),
        (["generate", "--topic", "Solar panels", "--priority", "cheap"], "--priority"),
        (["prompt", "--topic", "Solar panels", "-t", "tweet"], "--type"),
        (["models", "--priority", "bogus"], "--priority"),
        (["jobs", "--status", "done"], "--status"),
        (["batch", "x.csv", "--format", "xml"], "--format"),
    ],
)
def test_bad_choices_name_the_option(cli: Cli, args: list[str], option: str) -> None:
    message = cli(*args, code=2).stderr
    assert message.startswith(f"error: {option}: ") and "is not one of" in message
    assert "content_type" not in message


def test_version(cli: Cli) -> None:
    from contentgen import __version__

    for flag in ("--version", "-V"):
        assert cli(flag).stdout == f"contentgen {__version__}\n"


def test_shell_completion_script_and_completions(cli: Cli) -> None:
    script = cli("--show-completion", "bash").stdout
    assert "_CONTENTGEN_COMPLETE" in script and "complete" in script
    listed = cli(env={"_CONTENTGEN_COMPLETE": "complete_bash", "COMP_WORDS": "contentgen gen",
                      "COMP_CWORD": "1"}).stdout  # fmt: skip
    assert "generate" in listed
    words = "contentgen generate --type "
    types = cli(env={"_CONTENTGEN_COMPLETE": "complete_bash", "COMP_WORDS": words,
                     "COMP_CWORD": "3"}).stdout  # fmt: skip
    assert set(types.split()) == {"blog", "social", "local"}


def test_provider_without_model_is_refused_before_any_job(cli: Cli) -> None:
    message = cli("generate", "--topic", "Solar panels", "--provider", "openai", code=2).stderr
    assert message.startswith("error: --provider: give --model too")
    assert json.loads(cli("jobs", "--json").stdout) == []


def test_status_shows_the_piece_and_content_prints_only_it(cli: Cli) -> None:
    cli("generate", "--topic", "Solar panels for offices", "--model", "fake/writer")
    job_id = json.loads(cli("jobs", "--json").stdout)[0]["job_id"]
    body = json.loads(cli("status", job_id, "--json").stdout)
    content = body["result"]["content"]
    shown = cli("status", job_id[:8]).stdout
    assert shown.startswith(f"job {job_id}  completed\n") and content.strip() in shown
    assert cli("status", job_id, "--content").stdout == content.rstrip("\n") + "\n"


def test_status_content_of_a_job_without_content_is_one_line(
    cli: Cli, server: FakeOpenAIServer
) -> None:
    server.fail_next(20, 400, "refused")
    cli("generate", "--topic", "Solar panels today", "-m", "openai/gpt-4o-mini", code=1,
        env={"CONTENTGEN_LOG_LEVEL": "error"})  # fmt: skip
    job_id = json.loads(cli("jobs", "--json").stdout)[0]["job_id"]
    assert "has no content (status failed)" in cli("status", job_id, "--content", code=1).stderr
    assert "refused" in cli("status", job_id).stdout


def test_status_names_the_model_once(cli: Cli, server: FakeOpenAIServer) -> None:
    cli("generate", "--topic", "Solar panels today", "--model", "openai/gpt-4o-mini")
    job_id = json.loads(cli("jobs", "--json").stdout)[0]["job_id"]
    shown = cli("status", job_id).stdout
    assert " openai/gpt-4o-mini " in shown and "openai/openai" not in shown


def test_jobs_fits_80_columns(cli: Cli) -> None:
    long_topic = "Heat pumps in cold climates: what actually works for homeowners " * 3
    cli("clients", "add", "tonys-pizza-denver-union-station")
    for client in ("default", "tonys-pizza-denver-union-station"):
        cli("generate", "--topic", long_topic, "-c", client, "-m", "fake/writer")
    table = cli("jobs", env={"COLUMNS": "80"}).stdout.splitlines()
    assert len(table) == 4  # header, two jobs, caption: one line per job
    assert all(len(line) <= 80 for line in table), table
    ids = [j["job_id"][:8] for j in json.loads(cli("jobs", "--json").stdout)]
    for job_id, line in zip(ids, table[1:3], strict=True):
        assert line.startswith(f"{job_id} completed ") and "Heat pumps" in line
        assert "$0.0000" in line and "…" in line


def test_choices_are_taken_in_any_case(cli: Cli) -> None:
    built = json.loads(cli("prompt", "--topic", "Solar panels for offices", "--type", "SOCIAL",
                           "--length", "Long", "--json").stdout)  # fmt: skip
    assert built["metadata"]["content_type"] == "social"
    assert json.loads(cli("models", "--priority", "COST", "--json").stdout)["routes"].keys() == {
        "cost"
    }
    cli("jobs", "--status", "Completed")
    assert "'video'" in cli("prompt", "--topic", "Solar panels", "-t", "video", code=2).stderr


@pytest.mark.parametrize("columns", [80, 200])
def test_models_fit_the_terminal_and_name_every_model_whole(cli: Cli, columns: int) -> None:
    names = [m["model"] for m in json.loads(cli("models", "--json").stdout)["models"]]
    lines = cli("models", env={"COLUMNS": str(columns)}).stdout.splitlines()
    catalogue = lines[: lines.index("settings:")]
    assert all(len(line) <= columns for line in catalogue), catalogue
    starts = [line.split()[0] for line in catalogue if line and not line.startswith(" ")]
    assert starts == (names if columns == 80 else ["model", *names])  # wide: a header row
    assert len(catalogue) == (3 * len(names) if columns == 80 else len(names) + 1)


def test_settings_values_wrap_whole_at_80_columns(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/rather/long/path/to/make/the/value/wrap/contentgen.db"
    shown = cli("settings", env={"COLUMNS": "80", "CONTENTGEN_DATABASE_URL": url}).stdout
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert "…" not in shown
    folded = "".join(line[31:69].strip() for line in shown.splitlines()
                     if line.startswith("CONTENTGEN_DATABASE_URL ") or line.startswith(" " * 31))
    assert url in folded


def test_topic_from_stdin(cli: Cli) -> None:
    built = cli("prompt", "--topic", "-", "--json", input="Solar panels from stdin\n").stdout
    assert "Solar panels from stdin" in json.loads(built)["prompt"]
    cli("generate", "--topic", "-", "-m", "fake/writer", input="Heat pumps from stdin\n")
    assert json.loads(cli("jobs", "--json").stdout)[0]["result"]["title"]


def test_files_from_stdin(cli: Cli, tmp_path: Path) -> None:
    cli("clients", "add", "acme")
    cli("strategies", "set", "acme", "-", input="content_guidelines:\n  min_words: 300\n")
    shown = json.loads(cli("strategies", "show", "acme", "--json").stdout)
    assert shown["config"]["content_guidelines"]["min_words"] == 300
    cli("strategies", "set", "acme", "-", input='{"tone": {"voice": "warm"}}')
    shown = json.loads(cli("strategies", "show", "acme", "--json").stdout)
    assert shown["version"] == 2 and shown["config"]["tone"]["voice"] == "warm"
    cli("templates", "set", "acme", "blog", "-", input="Write about {{ topic }}.\n")
    built = json.loads(cli("prompt", "-c", "acme", "--topic", "Heat pumps", "--json").stdout)
    assert built["prompt"] == "Write about Heat pumps.\n"
    exported = cli("clients", "export", "acme").stdout
    cli("clients", "remove", "acme", "--force")
    cli("clients", "import", "-", input=exported)
    assert json.loads(cli("clients", "list", "--json").stdout)[0]["name"] == "acme"
