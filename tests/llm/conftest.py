"""Fixtures for the LLM backends: a local OpenAI-compatible server and settings aimed at it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer


@pytest.fixture
def api_key() -> str:
    """A key that must never show up in an error message or a log event."""
    return "sk-test-DO-NOT-LEAK-4242"


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def settings(openai_server: FakeOpenAIServer, api_key: str) -> Settings:
    """Settings aimed at ``openai_server``: three attempts, no back-off."""
    return Settings(
        api_base=openai_server.base_url,
        api_key=SecretStr(api_key),
        llm_retries=3,
        retry_wait=0,
        llm_timeout=10,
    )


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
