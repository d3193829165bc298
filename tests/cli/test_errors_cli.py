"""Issue 7, points 8 and 17: every ContentgenError, settings error, unreadable file or bad
output path is one line (`error: ...` on stderr, or one JSON object on stdout with --json),
with the same exit code either way; output paths are checked before any model is called."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from contentgen.testing import FakeOpenAIServer

Cli = Callable[..., Result]
SERVER_MODEL = ["--model", "openai/gpt-4o-mini"]


def jobs(cli: Cli) -> list[dict[str, object]]:
    return json.loads(cli("jobs", "--json").stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CONTENTGEN_CONCURRENCY", "abc", "an integer 1-512"),
        ("CONTENTGEN_CONCURRENCY", "0", "greater than or equal to 1"),
        # (a catalogue that names a missing file: tests/llm/test_catalogue.py)
        ("CONTENTGEN_CATALOGUE", '["a"]', "a TOML file path or an inline TOML/JSON table"),
        ("CONTENTGEN_RPM_LIMITS", "{", "a JSON object"),
        ("CONTENTGEN_LLM_TIMEOUT", "soon", "a number > 0"),
        ("CONTENTGEN_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("CONTENTGEN_CACHE_URL", "memcached://x", "disk://PATH"),
        ("CONTENTGEN_CACHE_URL", "/tmp/cache", "disk://PATH"),
        ("CONTENTGEN_LLM_BACKEND", "curl", "auto"),
    ],
)
def test_bad_settings_in_the_environment_are_one_line_naming_the_variable(
    cli: Cli, variable: str, value: str, says: str
) -> None:
    for command in (["jobs"], ["models"], ["cache", "clear"], ["settings"]):
        message = cli(*command, code=1, env={variable: value}).stderr
        assert message.startswith(f"error: setting {variable} (from the environment)")
        assert says in message


def test_a_catalogue_that_is_not_a_file_or_a_table_is_one_line(cli: Cli) -> None:
    # a string is a path or inline TOML: read (and refused) where the catalogue is loaded, by
    # every command that routes a call (`jobs` only reads the database and does not load it)
    for command in (["models"], ["generate", "--topic", "Solar panels for offices"]):
        message = cli(*command, code=1, env={"CONTENTGEN_CATALOGUE": "cost=gpt"}).stderr
        assert message.startswith("error: CONTENTGEN_CATALOGUE: cannot read cost=gpt")
        assert "give a TOML file or a table" in message


def test_a_known_log_level_is_accepted_in_any_case(cli: Cli) -> None:
    cli("jobs", env={"CONTENTGEN_LOG_LEVEL": "debug"})


def test_a_bad_value_in_dotenv_or_toml_names_the_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CONTENTGEN_CONCURRENCY=many\n")
    assert "CONTENTGEN_CONCURRENCY (from .env)='many'" in cli("jobs", code=1).stderr
    (tmp_path / ".env").unlink()
    (tmp_path / "contentgen.toml").write_text('concurrency = "many"\n')
    assert "concurrency (from contentgen.toml)='many'" in cli("jobs", code=1).stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("contentgen.toml", b'model = "unterminated\n'),
        ("contentgen.toml", b"model = 'caf\xe9'\n"),
        (".env", b"CONTENTGEN_MODEL=caf\xe9\n"),
    ],
)
def test_a_broken_settings_file_is_one_line(
    cli: Cli, tmp_path: Path, name: str, content: bytes
) -> None:
    (tmp_path / name).write_bytes(content)
    message = cli("jobs", code=1).stderr
    assert name in message or "UTF-8" in message


def test_a_secret_in_a_bad_setting_is_not_shown(cli: Cli) -> None:
    message = cli("jobs", code=1, env={"CONTENTGEN_CACHE_URL": "nope://user:hunter2@host"}).stderr
    assert "hunter2" not in message and "***" in message


@pytest.mark.parametrize("problem", ["missing-dir", "is-a-dir"])
def test_generate_out_problems_are_found_before_the_model_is_called(
    cli: Cli, server: FakeOpenAIServer, tmp_path: Path, problem: str
) -> None:
    target = tmp_path / "nowhere" / "post.md" if problem == "missing-dir" else tmp_path
    message = cli("generate", "--topic", "Solar panels today", "--out", str(target),
                  *SERVER_MODEL, code=2).stderr  # fmt: skip
    assert message.startswith("error: --out: ")
    assert ("does not exist" if problem == "missing-dir" else "is a directory") in message
    assert server.requests == 0
    assert jobs(cli) == []


def test_batch_out_naming_a_file_is_refused_before_any_job(cli: Cli, tmp_path: Path) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text("topic,content_type\nSolar panels today,blog\n")
    (tmp_path / "taken").write_text("not a directory")
    message = cli("batch", str(csv), "--out", str(tmp_path / "taken"), code=2,
                  env={"CONTENTGEN_MODEL": "fake/writer"}).stderr  # fmt: skip
    assert message.startswith("error: --out: ") and "is a file" in message
    assert jobs(cli) == []


def test_a_csv_not_in_utf8_is_one_line_and_runs_nothing(cli: Cli, tmp_path: Path) -> None:
    csv = tmp_path / "latin1.csv"
    csv.write_bytes("topic,content_type\nCaf\xe9 culture in Paris,blog\n".encode("latin-1"))
    env = {"CONTENTGEN_MODEL": "fake/writer"}
    for extra in ([], ["--dry-run"]):
        message = cli("batch", str(csv), "--out", str(tmp_path / "out"), *extra, code=2,
                      env=env).stderr  # fmt: skip
        assert "is not UTF-8 text" in message and "line 2" in message
    assert jobs(cli) == []


def test_an_unreadable_file_argument_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert "does not exist" in cli("clients", "import", "missing.yaml", code=2).stderr
    assert "is a directory" in cli("strategies", "set", "x", str(tmp_path), code=2).stderr
    (tmp_path / "t.j2").write_bytes(b"Write about {{ topic }} \xff\n")
    cli("clients", "add", "acme")
    assert "not UTF-8" in cli("templates", "set", "acme", "blog", str(tmp_path / "t.j2"),
                              code=2).stderr  # fmt: skip


# --- --json: errors are a JSON object on stdout ---------------------------------------------


def json_error(result: Result) -> dict[str, object]:
    assert "error:" not in result.stderr, result.stderr  # (log events may be there)
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def test_json_mode_errors_are_an_object_on_stdout_with_the_same_exit_code(cli: Cli) -> None:
    bad_input = json_error(cli("generate", "--topic", "abc", "--json", code=2))
    assert bad_input["type"] == "InvalidInput" and bad_input["field"] == "topic"
    assert str(bad_input["error"]).startswith("topic: must be at least 5 characters")

    usage = json_error(cli("generate", "--topic", "Solar panels", "-t", "video", "--json",
                           code=2))  # fmt: skip
    assert usage["type"] == "UsageError" and "--type" in str(usage["error"])

    missing = json_error(cli("status", "feedbeef", "--json", code=1))
    assert missing["type"] == "JobNotFound"

    settings = json_error(cli("jobs", "--json", code=1, env={"CONTENTGEN_CONCURRENCY": "x"}))
    assert "CONTENTGEN_CONCURRENCY" in str(settings["error"])

    refused = json_error(cli("clients", "show", "nobody", "--json", code=1))
    assert refused["field"] == "client"


def test_a_failed_job_reports_its_id_in_json_mode(cli: Cli, server: FakeOpenAIServer) -> None:
    server.fail_next(20, 400, "this model refuses")
    result = cli("generate", "--topic", "Solar panels today", "--json", *SERVER_MODEL, code=1)
    body = json_error(result)
    [job] = jobs(cli)
    assert body["job_id"] == job["job_id"] and job["status"] == "failed"
    assert body["type"] == "JobFailed" and "refuses" in str(body["error"])
    plain = cli("generate", "--topic", "Solar panels today", *SERVER_MODEL, code=1,
                env={"CONTENTGEN_LOG_LEVEL": "error"}).stderr  # (warnings are logged too)
    assert plain.startswith("error: job ") and "refuses" in plain


def test_a_json_flag_after_double_dash_is_not_json_mode(cli: Cli) -> None:
    result = cli("clients", "add", "--", "--json", code=0)
    assert "added client --json" in result.stdout
