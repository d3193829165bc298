"""Every ```bash block of README.md and docs/*.md runs as written, in order per file, in a
fresh CONTENTGEN_HOME, against the local fake provider (issue 7, point 15).

Conventions for writing docs (they apply to every page added later):

- A ```bash block holds commands a reader can paste. Blocks of one page run in order, in one
  fresh data directory and one scratch working directory that holds a copy of ``examples/``.
  Models are served by ``contentgen.testing.FakeOpenAIServer`` (``CONTENTGEN_API_BASE`` and
  ``CONTENTGEN_MODEL=openai/gpt-4o-mini`` are set); no key, no network.
- Sample output goes in ```text or ```console blocks, which are not run.
- A command expected to fail ends with the comment ``# exit N`` (N its exit code).
- A block preceded by ``<!-- not-run: REASON -->`` (the last non-blank line before the fence)
  is skipped: it needs something the test cannot give (a PostgreSQL URL, a browser, a
  long-running server, installing the package).
- A block preceded by ``<!-- embedded-model -->`` runs without the fake provider, on the
  embedded model (the README's offline quick start); it is marked ``local_model``.
- No placeholders (``JOB_ID``, ``"..."``) in ```bash blocks: use ``contentgen status last``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contentgen.testing import FakeOpenAIServer, run_in_thread

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
MARKER = re.compile(r"<!--\s*(not-run|embedded-model)\s*:?\s*(.*?)\s*-->\s*$")
EXPECTED_EXIT = re.compile(r"^(?P<cmd>.*?)\s+#\s*exit\s+(?P<code>\d+)\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    number: int  # 1-based among the page's bash blocks
    line: int  # line of the opening fence
    code: str
    skip: str | None  # the not-run reason
    embedded: bool

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}#{self.number}(line {self.line})"


def bash_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group("lang") != "bash":
            continue
        before = [ln for ln in text[: match.start()].splitlines() if ln.strip()]
        marker = MARKER.search(before[-1]) if before else None
        kind = marker.group(1) if marker else None
        reason = (marker.group(2) or "no reason") if marker and kind == "not-run" else None
        found.append(Block(
            page=page, number=len(found) + 1, line=text[: match.start()].count("\n") + 1,
            code=textwrap.dedent(match.group("code")), skip=reason,
            embedded=kind == "embedded-model",
        ))  # fmt: skip
    return found


BLOCKS = [block for page in PAGES for block in bash_blocks(page)]


def script(code: str) -> str:
    """The block as a bash script: stop at the first unexpected failure; a line ending with
    ``# exit N`` must exit with N."""
    lines = ["set -eo pipefail"]
    for number, line in enumerate(code.splitlines(), start=1):
        expected = EXPECTED_EXIT.match(line)
        if expected is None:
            lines.append(line)
            continue
        code_ = expected.group("code")
        lines.append(
            f"set +e; {expected.group('cmd')}\nrc=$?; set -e\n"
            f'[ "$rc" -eq {code_} ] || {{ echo "line {number}: expected exit {code_}, got $rc" '
            ">&2; exit 99; }"
        )
    return "\n".join(lines) + "\n"


@dataclass
class Page:
    home: Path
    cwd: Path


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAIServer]:
    with run_in_thread() as server:
        yield server


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Page]:
    """One fresh home and working directory per page, shared by its blocks (in order)."""
    made: dict[Path, Page] = {}
    for page in PAGES:
        base = tmp_path_factory.mktemp(page.stem.lower())
        cwd = base / "work"
        shutil.copytree(ROOT / "examples", cwd / "examples")
        made[page] = Page(home=base / "home", cwd=cwd)
    return made


def environment(page: Page, server: FakeOpenAIServer, embedded: bool) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(page.cwd.parent),
        "LANG": "C.UTF-8",
        "COLUMNS": "100",
        "CONTENTGEN_HOME": str(page.home),
        "CONTENTGEN_RETRY_WAIT": "0",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    if not embedded:
        env |= {"CONTENTGEN_API_BASE": server.base_url, "CONTENTGEN_MODEL": "openai/gpt-4o-mini",
                "CONTENTGEN_API_KEY": "sk-fake-docs"}  # fmt: skip
    if os.environ.get("VIRTUAL_ENV"):
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    return env


def params() -> list[object]:
    marks = {True: [pytest.mark.local_model], False: []}
    return [pytest.param(b, id=b.id, marks=marks[b.embedded]) for b in BLOCKS]


@pytest.mark.parametrize("block", params())
def test_console_block_runs(
    block: Block, pages: dict[Path, Page], provider: FakeOpenAIServer
) -> None:
    if block.skip is not None:
        pytest.skip(f"not-run: {block.skip}")
    if block.embedded:
        pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")
    page = pages[block.page]
    done = subprocess.run(
        ["bash", "-c", script(block.code)], cwd=page.cwd, capture_output=True, text=True,
        env=environment(page, provider, block.embedded), timeout=900 if block.embedded else 300,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"{block.id} failed (exit {done.returncode}):\n{block.code}\n"
        f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
    )


def test_the_block_parser_reads_markers_and_expected_exits(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```bash\necho one\n```\n\n<!-- not-run: needs a server -->\n\n```bash\nserve\n"
        "```\n<!-- embedded-model -->\n```bash\nrun\n```\n```console\n$ no\n```\n",
        encoding="utf-8",
    )
    found = bash_blocks(page)
    assert [(b.code, b.skip, b.embedded) for b in found] == [
        ("echo one\n", None, False), ("serve\n", "needs a server", False), ("run\n", None, True),
    ]  # fmt: skip
    ok = subprocess.run(["bash", "-c", script("false # exit 1\ntrue # exit 0\n")], check=False)
    assert ok.returncode == 0
    wrong = subprocess.run(["bash", "-c", script("true # exit 2\n")], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert wrong.returncode == 99 and "expected exit 2, got 0" in wrong.stderr
    stops = subprocess.run(["bash", "-c", script("false\necho never\n")], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert stops.returncode == 1 and "never" not in stops.stdout


def test_every_page_has_runnable_commands() -> None:
    for page in PAGES:
        runnable = [b for b in BLOCKS if b.page == page and b.skip is None]
        assert runnable, f"{page.name}: no runnable ```bash block"
