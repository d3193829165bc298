"""`contentgen check` on the shipped example pieces: the output documented in docs/quality.md,
exit codes 0/1; and `contentgen status` showing a job's compliance."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from contentgen.cli.app import app
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings

from .test_writer import PIECE, STRATEGY

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "quality.md"
TEXT_BLOCK = re.compile(r"^```text\n(?P<body>.*?)^```$", re.M | re.S)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # example paths as the docs write them
    yield
    structlog.reset_defaults()


def contentgen(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def documented() -> list[tuple[list[str], str]]:
    """``(argv, output)`` of every ```text block of docs/quality.md that shows a check."""
    found = []
    for match in TEXT_BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        first, _, rest = match.group("body").partition("\n")
        if first.startswith("$ contentgen check "):
            found.append((shlex.split(first[2:])[1:], rest))
    return found


def test_the_docs_show_checks_that_pass_and_fail() -> None:
    shown = documented()
    assert len(shown) >= 2
    assert any(": passed (" in out.splitlines()[0] for _, out in shown)
    assert any(": FAILED (" in out.splitlines()[0] for _, out in shown)


@pytest.mark.parametrize(("argv", "expected"), documented(),
                         ids=[Path(argv[1]).stem for argv, _ in documented()])  # fmt: skip
def test_check_prints_what_the_docs_show_and_exits_0_or_1(argv: list[str], expected: str) -> None:
    assert contentgen("clients", "import", "examples/clients.yaml")[0] == 0
    code, out = contentgen(*argv)
    assert out == expected
    assert code == (0 if ": passed (" in expected.splitlines()[0] else 1)


def test_check_json_is_the_report() -> None:
    contentgen("clients", "import", "examples/clients.yaml")
    code, out = contentgen("check", "examples/pieces/pizza-draft.md", "--client", "tonys-pizza",
                           "--json")  # fmt: skip
    report = json.loads(out)
    assert code == 1 and report["passed"] is False and report["client"] == "tonys-pizza"
    assert {c["name"] for c in report["checks"] if not c["passed"]} >= {
        "title", "sections", "section_order", "keyword:neapolitan pizza", "repetition",
        "prompt_echo", "complete",
    }  # fmt: skip
    code, out = contentgen("check", "examples/pieces/pizza-blog.md", "-c", "tonys-pizza", "--json")
    assert code == 0 and json.loads(out)["score"] == 1.0


def test_an_unreadable_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "missing.md")])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "missing.md" in result.stderr


def test_status_shows_the_compliance_of_a_job() -> None:
    async def make() -> str:
        settings = Settings(model="openai/gpt-4o-mini", retry_wait=0)
        async with Client.from_settings(settings, llm=FakeLLM([PIECE])) as cg:
            await cg.add_client("acme")
            await cg.set_strategy("acme", STRATEGY)
            job = await cg.generate(topic="Solar heat for offices", client="acme",
                                    keywords=["heat pump"])  # fmt: skip
            return str(job.id)

    job_id = asyncio.run(make())
    code, out = contentgen("status", job_id)
    assert code == 0
    assert "compliance: 0.90, FAILED (single mode, 0 repair rounds)" in out
    assert "  FAIL keyword:heat pump: keyword 'heat pump' not used" in out


def test_check_imports_no_heavy_module(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom contentgen.cli.app import app\n"
        "try:\n    app(['check', 'examples/pieces/pizza-blog.md'], standalone_mode=False)\n"
        "except BaseException:\n    pass\n"
        "print([m for m in ('litellm', 'llama_cpp', 'fastapi', 'supabase') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"CONTENTGEN_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          timeout=60)  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
