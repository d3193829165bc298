"""CLI tests: `contentgen` through Typer's CliRunner, each test on its own SQLite database and
disk cache (CONTENTGEN_HOME is a fresh tmp dir, set by the autouse fixture in tests/conftest.py).

``runner`` and ``server`` serve test_generate_cli.py; ``cli`` and ``lib`` the client-setup tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

import pytest
import structlog
from typer.testing import CliRunner, Result

from contentgen.cli import output
from contentgen.cli.app import app
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer, run_in_thread


class Cli(Protocol):
    def __call__(
        self, *args: str, code: int = 0, env: dict[str, str] | None = None,
        input: str | bytes | None = None,
    ) -> Result: ...


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # a command points structlog at the runner's stderr, which is gone after the test
    yield
    structlog.reset_defaults()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """A local OpenAI-compatible server the CLI is pointed at (a key that must never show)."""
    with run_in_thread() as started:
        monkeypatch.setenv("CONTENTGEN_API_BASE", started.base_url)
        monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-test-never-shown")
        monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
        yield started


@pytest.fixture
def cli() -> Cli:
    """Run `contentgen ARGS`; asserts the exit code (0 unless ``code``) and, for a failure,
    that stderr is one line starting with ``error:`` (stdout one JSON error with --json)."""
    runner = CliRunner()

    def invoke(
        *args: str, code: int = 0, env: dict[str, str] | None = None,
        input: str | bytes | None = None,
    ) -> Result:  # fmt: skip
        for console in (output.out, output.err):  # each run starts as a new process would
            console._console = None  # (rich reads COLUMNS when its console is made)
        result = runner.invoke(app, list(args), env=env, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.stdout, result.stderr)
        if code != 0 and "--json" in args:
            body = json.loads(result.stdout)
            assert body["exit_code"] == code and body["error"], result.stdout
        elif code != 0:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return result

    return invoke


def on_same_data(work: Callable[[Client], Awaitable[Any]], fake: FakeLLM | None = None) -> Any:
    """Run library code on the database and cache the CLI uses (e.g. to create jobs)."""

    async def main() -> Any:
        settings = Settings(model="openai/gpt-4o-mini", retry_wait=0)
        async with Client.from_settings(settings, llm=fake or FakeLLM()) as cg:
            return await work(cg)

    return asyncio.run(main())


@pytest.fixture
def lib() -> Callable[..., Any]:
    return on_same_data
