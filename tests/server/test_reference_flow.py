"""The reference's own integration test ("Testing Strategy" 1), as written, against a real
uvicorn on 127.0.0.1 serving the default stack (SQLite, disk cache) with a local
OpenAI-compatible fake as the provider.

Two things differ from the text, both forced by the setting, not by the API: httpx 0.28 has no
``AsyncClient(app=...)``, so the client gets the server's ``base_url``; and the client named
``test-client-id`` exists (the server accepts a client's name or UUID as ``client_id``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient

from contentgen.client.local import LocalClient
from contentgen.server.app import create_app
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

from .support import uvicorn_server


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    async with FakeOpenAIServer() as provider:
        settings = Settings(home=tmp_path / "home", api_base=provider.base_url,
                            api_key="sk-test", model="openai/gpt-4o-mini",
                            retry_wait=0)  # fmt: skip
        async with LocalClient.from_settings(settings) as local:
            await local.add_client("test-client-id")
            app = create_app(settings, local, auth=False)
            async with uvicorn_server(app) as url:
                yield url
        assert provider.requests >= 1


@pytest.mark.asyncio
async def test_content_generation_flow(base_url: str) -> None:
    async with AsyncClient(base_url=base_url) as client:
        # Step 1: Create request
        response = await client.post("/generate", json={
            "topic": "Solar energy benefits",
            "content_type": "blog",
            "client_id": "test-client-id",
            "keywords": ["solar", "renewable"]
        })  # fmt: skip
        assert response.status_code == 200
        job_id = response.json()["job_id"]

        # Step 2: Poll for completion
        max_attempts = 10
        for _ in range(max_attempts):
            status_response = await client.get(f"/status/{job_id}")
            status_data = status_response.json()

            if status_data["status"] == "completed":
                assert "content" in status_data["result"]
                assert len(status_data["result"]["content"]) > 100
                break

            await asyncio.sleep(1)
        else:
            pytest.fail("Job did not complete in time")
