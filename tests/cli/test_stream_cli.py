"""`contentgen generate` streams the piece as it is written (issue 7, point 18): forced with
``--stream`` (text on stderr, the final piece alone on stdout), off with ``--no-stream``, live
on a real terminal (a pty); usage and cost stay exact when streaming."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from contentgen.testing import FakeOpenAIServer

Cli = Callable[..., Result]
TOPIC = "Solar panels for small offices"
CATALOGUE = json.dumps({"models": {"openai/gpt-4o-mini": {"price_in": 1.0, "price_out": 3.0}}})


def test_forced_stream_sends_the_text_to_stderr_as_it_comes(
    cli: Cli, server: FakeOpenAIServer, _isolated_env: Path
) -> None:
    server.usage = (123, 456)
    env = {"CONTENTGEN_MODEL": "openai/gpt-4o-mini", "CONTENTGEN_CATALOGUE": CATALOGUE}
    result = cli("generate", "--topic", TOPIC, "--stream", "--json", env=env)
    assert server.last_request is not None and server.last_request["stream"] is True
    assert server.last_request["stream_options"] == {"include_usage": True}
    body = json.loads(result.stdout)  # stdout: the job alone
    content = body["result"]["content"]
    streamed = result.stderr
    # the model's words reached stderr as they came, before the final piece was printed
    first_body_line = next(line for line in content.splitlines()[1:] if line.strip())
    assert first_body_line[:40] in streamed
    usage = body["result"]["metadata"]["token_usage"]
    assert usage == {"input": 123, "output": 456}  # the stream's own usage, exactly
    assert body["result"]["metadata"]["generation_cost"] == round(123e-6 + 456 * 3e-6, 10)


def test_no_stream_asks_for_one_reply(cli: Cli, server: FakeOpenAIServer) -> None:
    env = {"CONTENTGEN_MODEL": "openai/gpt-4o-mini"}
    cli("generate", "--topic", TOPIC, "--no-stream", env=env)
    assert server.last_request is not None and not server.last_request.get("stream")


def test_sections_are_streamed_as_they_are_written(cli: Cli) -> None:
    result = cli("generate", "--topic", TOPIC, "--model", "fake/writer", "--stream")
    headings = [line for line in result.stdout.splitlines() if line.startswith("## ")]
    assert len(headings) >= 2
    for heading in headings:  # each part's heading came through the stream
        assert heading[3:] in result.stderr


def test_a_terminal_gets_a_live_view_then_the_piece(
    server: FakeOpenAIServer, _isolated_env: Path
) -> None:
    env = {**os.environ, "CONTENTGEN_MODEL": "openai/gpt-4o-mini", "COLUMNS": "100",
           "LINES": "30", "TERM": "xterm-256color"}  # fmt: skip
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen", "generate", "--topic", TOPIC],
        stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env,
    )  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("no output for 60 s")
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.wait(timeout=30) == 0, shown
    assert "writing with openai/gpt-4o-mini" in shown  # the live status line was drawn
    assert "# " in shown and "done" in shown
    assert server.last_request is not None and server.last_request["stream"] is True
