"""Shared fixtures: every test runs with a clean environment and its own data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("CONTENTGEN_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("CONTENTGEN_HOME", str(home))
    # Repairs add calls to a piece that misses its strategy (FakeLLM's stock article misses the
    # default one): tests that count calls for other reasons get one call per piece; the
    # quality tests set repair rounds themselves.
    monkeypatch.setenv("CONTENTGEN_REPAIR_ROUNDS", "0")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Never let a test talk to a real provider with a real key.
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    yield home


# PostgreSQL, PostgREST and Redis fixtures (servers started once per session, on loopback).
pytest_plugins = ["server_fixtures"]
