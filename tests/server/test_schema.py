"""schemathesis against the app's own OpenAPI document, over a real uvicorn: for every
operation a bounded number of generated requests (valid and not), no 5xx, and every response
matches the schema (status code, content type, headers, body).

schemathesis's ``positive_data_acceptance`` check is left out: a request the schema allows
may still break a rule the schema cannot say (a cursor this server never gave out, a client
that does not exist, a topic of five spaces) and be refused with 400 or 404 by design."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.llm.fake import FakeLLM
from contentgen.server.app import create_app
from contentgen.server.security import create_token
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage

from .support import SECRET, TOPIC

MAX_EXAMPLES = 15


@pytest.fixture
def served_url(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn in a thread (its own event loop), an acme client with one job."""
    import uvicorn

    settings = Settings(home=tmp_path / "home", model="fake/writer", retry_wait=0,
                        jwt_secret=SECRET)  # fmt: skip
    local = LocalClient.from_settings(settings, llm=FakeLLM(), storage=MemoryStorage(),
                                      cache=MemoryCache())  # fmt: skip
    app = create_app(settings, local, workers_in_process=2, worker_poll=0.05, sse_ping=1)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                                           access_log=False, lifespan="on"))  # fmt: skip
    ready = threading.Event()

    async def main() -> None:
        async with local:
            await local.add_client("acme")
            await local.submit(topic=TOPIC, client="acme")
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.01)
            ready.set()
            await task

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30) and server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _document() -> dict[str, Any]:
    """The OpenAPI document of an app like the served one (built, never started)."""
    settings = Settings(home=Path("unused"), model="fake/writer", jwt_secret=SECRET)
    local = LocalClient.from_settings(settings, storage=MemoryStorage(), cache=MemoryCache())
    return create_app(settings, local).openapi()


# (schemathesis.pytest.from_fixture would load it from the served app, but it reads
# pytest's private Node._nodeid, which pytest 9.2 removed.)
schema = schemathesis.openapi.from_dict(_document())
ADMIN = {"Authorization": f"Bearer {create_token(SECRET, clients=None, admin=True)}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_every_operation_conforms_to_its_schema(
    case: schemathesis.Case, served_url: str
) -> None:
    case.call_and_validate(base_url=served_url, headers=ADMIN, timeout=10,
                           excluded_checks=[positive_data_acceptance])  # fmt: skip
