"""docs/server.md as written: its bash blocks run in order, in one fresh home and working
directory, against a real `contentgen serve` (on a free port instead of 8000) with a local
OpenAI-compatible fake as the provider. The console-block test skips the blocks that need the
server; this test runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from contentgen.testing import FakeOpenAIServer, run_in_thread

PAGE = Path(__file__).resolve().parents[2] / "docs" / "server.md"
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<code>.*?)^```\s*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*not-run\s*:?\s*(.*?)\s*-->\s*$")
OURS = "test_server_docs.py"


def blocks() -> list[tuple[str, str | None]]:
    """(code, not-run reason) of every bash block, in order."""
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group("lang") != "bash":
            continue
        before = [ln for ln in text[: match.start()].splitlines() if ln.strip()]
        marker = MARKER.search(before[-1]) if before else None
        found.append((match.group("code"), marker.group(1) if marker else None))
    return found


@pytest.fixture
def provider() -> Iterator[FakeOpenAIServer]:
    with run_in_thread() as server:
        yield server


def _serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "contentgen", "serve", "--port", "0"],
                            env=env, cwd=cwd, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            match = re.search(r"listening on http://(\S+?)[ (]", line)
            if match and not url:
                url.append(match.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(60), "".join(lines)
    return proc, url[0], lines


def test_the_server_page_runs_as_written(tmp_path: Path, provider: FakeOpenAIServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTGEN_")}
    env.update(CONTENTGEN_HOME=str(tmp_path / "home"), CONTENTGEN_API_BASE=provider.base_url,
               CONTENTGEN_MODEL="openai/gpt-4o-mini", CONTENTGEN_API_KEY="sk-fake-docs",
               CONTENTGEN_RETRY_WAIT="0", COLUMNS="100")  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    work = tmp_path / "work"
    work.mkdir()
    runnable = [(code, reason) for code, reason in blocks() if reason is None or OURS in reason]
    assert len(runnable) >= 8
    server = None
    outputs = []
    try:
        for code, reason in runnable:
            if reason is not None and server is None:
                secret = (work / "jwt.secret").read_text().strip()
                server = _serve(env | {"CONTENTGEN_JWT_SECRET": secret}, work)
            script = code if server is None else code.replace("127.0.0.1:8000", server[1])
            done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + script], cwd=work,
                                  env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, (code, done.stdout, done.stderr)
            outputs.append(done.stdout)
    finally:
        if server is not None:
            server[0].send_signal(signal.SIGTERM)
            server[0].wait(30)
    text = "\n".join(outputs)
    assert '"status":"completed"' in text  # the job, read back
    assert '"field":"topic"' in text and "Missing bearer token" in text
    assert "event: status" in text and "id: 1" in text
    assert "Internal server error" not in text
    assert "completed" in text and "content_requests_total" in text
    assert (work / "post.md").read_text().startswith("# ")
