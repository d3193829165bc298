"""Issue 7, point 9: everything that came from a user, a file or a model is printed as text —
never read as rich markup, never passed to the terminal as control sequences."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import Result

from contentgen.cli.output import clean, plain, plain_console_class

PlainConsole = plain_console_class()

Cli = Callable[..., Result]

MARKUP = ["[bold]x[/bold]", "[/]", "[red]x[/red]", "a [link=http://evil]b[/link]", ":smile: [/DB]"]
CONTROL = [
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b]0;title\x07shown", "shown"),
    ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("a\x1b[2Jb\x1b[Hc", "abc"),
    ("bell\x07\x08\r", "bell"),
    ("8-bit\x9b31m csi", "8-bit csi"),
    ("\u202eevil\u202c", "evil"),
    ("\x1bPdcs\x1b\\x", "x"),
]


@pytest.mark.parametrize(("raw", "expected"), CONTROL)
def test_clean_strips_terminal_control_sequences(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize("text", MARKUP)
def test_clean_keeps_brackets(text: str) -> None:
    assert clean(text) == text
    assert clean("tab\tand\nnewline") == "tab\tand\nnewline"


def render(*objects: object, console_class: type[Console] = PlainConsole) -> str:
    """What a colour terminal would receive (escape codes included)."""
    file = io.StringIO()
    console = console_class(file=file, width=200, force_terminal=True, color_system="truecolor")
    for obj in objects:
        console.print(obj)
    return file.getvalue()


@pytest.mark.parametrize("text", MARKUP + [raw for raw, _ in CONTROL])
def test_the_console_prints_strings_table_cells_and_styled_parts_as_text(text: str) -> None:
    table = Table("name")
    table.add_row(text)
    shown = render(text, table, plain(("label: ", "bold"), text))
    assert shown.count(clean(text)) == 3
    # the only escape codes are the bold of the label and the table's header style
    without_styles = shown.replace("\x1b[1m", "").replace("\x1b[0m", "").replace("\x1b[3m", "")
    assert "\x1b" not in without_styles and "\x07" not in shown


def test_a_plain_console_renders_plain_text_like_a_normal_one() -> None:
    text = "nothing special here"
    assert render(text) == render(text, console_class=Console) == text + "\n"


@pytest.mark.parametrize("name", MARKUP)
def test_client_names_with_markup_are_shown_as_written(cli: Cli, name: str) -> None:
    added = cli("clients", "add", name).stdout
    assert name in added
    assert name in cli("clients", "list").stdout
    shown = cli("clients", "show", name).stdout
    assert shown.startswith(f"{name} (") and f"lineage: {name}" in shown
    cli("generate", "--topic", f"Topic {name} here", "-c", name, "--model", "fake/writer")
    listing = cli("jobs", "--json").stdout
    assert json.loads(listing)[0]["client"] == name
    assert name in cli("jobs", env={"COLUMNS": "200"}).stdout
    missing = cli("clients", "show", f"{name}-nope", code=1).stderr
    assert f"'{name}-nope'" in missing


def test_topics_with_control_sequences_are_printed_without_them(cli: Cli) -> None:
    topic = "Solar \x1b[31mred\x1b[0m panels \x1b]0;pwned\x07now [bold]x[/bold]"
    result = cli("generate", "--topic", topic, "--model", "fake/writer")
    assert "\x1b" not in result.stdout + result.stderr
    job_id = json.loads(cli("jobs", "--json").stdout)[0]["job_id"]
    for args in (("jobs",), ("status", job_id)):
        printed = cli(*args, env={"COLUMNS": "200"}).stdout
        assert "\x1b" not in printed and "\x07" not in printed
        assert "Solar red panels now [bold]x[/bold]" in printed
    # the stored topic and the JSON keep what was given
    assert json.loads(cli("status", job_id, "--json").stdout)["job_id"] == job_id


def test_model_names_and_hints_keep_their_brackets(cli: Cli) -> None:
    result = cli("generate", "--topic", "Solar panels today", "--model", "fake/[bold]w[/bold]")
    assert "fake/[bold]w[/bold]" in result.stderr
    job_id = json.loads(cli("jobs", "--json").stdout)[0]["job_id"]
    assert "fake/[bold]w[/bold]" in cli("status", job_id).stdout


def test_error_messages_are_not_markup(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTGEN_CACHE_URL", "nope://x")
    message = cli("jobs", code=1).stderr
    assert "redis://HOST[:PORT][/DB]" in message  # was a MarkupError on '[/DB]'
    assert "error: " in message


def test_a_missing_extra_hint_keeps_the_extra_name(capsys: pytest.CaptureFixture[str]) -> None:
    from contentgen.cli.common import handle_error
    from contentgen.errors import MissingExtra

    assert handle_error(MissingExtra("redis", "The Redis cache")) == 1
    assert "pip install 'contentgen[redis]'" in capsys.readouterr().err


def test_batch_summary_with_markup_client_names(cli: Cli, tmp_path: Path) -> None:
    cli("clients", "add", "[red]acme[/red]")
    csv = tmp_path / "rows.csv"
    csv.write_text("topic,content_type,client\nSolar panels today,blog,[red]acme[/red]\n")
    result = cli("batch", str(csv), "--out", str(tmp_path / "out"), "-q",
                 env={"CONTENTGEN_MODEL": "fake/writer"})  # fmt: skip
    assert "[red]acme[/red]" in result.stderr
