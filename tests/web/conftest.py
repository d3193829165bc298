"""Browser tests of the web page: real uvicorn on 127.0.0.1 serving ``create_app`` over a
SQLite database, a local fake OpenAI-compatible provider, and Debian's headless Chromium driven
by selenium (chromedriver given explicitly: selenium-manager never downloads anything).

``CONTENTGEN_WEB_SCREENSHOTS=DIR`` saves the screenshots the tests take into DIR (docs/img
holds the ones docs/web.md shows).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from contentgen.client.local import LocalClient
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer, run_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SECRET = "web-tests-secret-" + "x" * 40
WAIT = 20.0
#: Read at import: the autouse fixture of tests/conftest.py clears CONTENTGEN_* for each test.
_SHOTS = os.environ.get("CONTENTGEN_WEB_SCREENSHOTS")
SCREENSHOTS = Path(_SHOTS).resolve() if _SHOTS else None  # tests run in their tmp dir


def _need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them (.ci/run): never skip there
        pytest.skip(message)


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session; each test's server is a new origin, so no
    test sees another's sessionStorage."""
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,900", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@dataclass
class Site:
    """A running server: its URL, tokens and the fake provider behind it."""

    url: str
    provider: FakeOpenAIServer
    clients: dict[str, uuid.UUID]
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, *names: str, admin: bool = False, ttl: int = 3600) -> str:
        from contentgen.server.security import create_token

        clients = None if names == ("*",) else [self.clients[n] for n in names]
        return create_token(SECRET, clients=clients, admin=admin, subject="web-test",
                            ttl_seconds=ttl)  # fmt: skip

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                            timeout=10)  # fmt: skip

    def wait_status(self, token: str, job_id: str, statuses: set[str]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        with self.api(token) as http:
            while True:
                body: dict[str, Any] = http.get(f"/status/{job_id}").json()
                if body["status"] in statuses or time.monotonic() > deadline:
                    return body
                time.sleep(0.1)


class _Uvicorn:
    """uvicorn in a thread with its own event loop; ``client`` is closed in that loop."""

    def __init__(self, app: Any, client: LocalClient) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self.server = uvicorn.Server(config)
        self.client = client
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),),
                                       name="uvicorn", daemon=True)  # fmt: skip

    async def _serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            await self.client.aclose()

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(WAIT)
        self.sock.close()


async def _seed(settings: Settings) -> dict[str, uuid.UUID]:
    """Clients acme (with a strategy, two versions) and its child acme-kitchens, and globex."""
    async with LocalClient.from_settings(settings) as cg:
        acme = await cg.add_client("acme")
        kitchens = await cg.add_client("acme-kitchens", parent="acme")
        globex = await cg.add_client("globex")
        await cg.set_strategy("acme", {"tone": {"voice": "friendly", "formality": "casual"},
                                       "content_guidelines": {"min_words": 100}})  # fmt: skip
        await cg.set_strategy("acme", {"tone": {"voice": "warm", "formality": "casual"},
                                       "content_guidelines": {"min_words": 150},
                                       "seo_focus": {"primary_keywords": ["solar"]}})  # fmt: skip
        await cg.set_strategy("acme-kitchens", {"tone": {"voice": "expert"}})
        await cg.set_seo_rule("acme", "headings", "Use a heading every 300 words")
        return {"acme": acme.id, "acme-kitchens": kitchens.id, "globex": globex.id}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    from contentgen.server.app import create_app

    with run_in_thread(delay=0.0) as provider:
        settings = Settings(
            home=tmp_path / "home",
            cache_url="memory://",
            model="openai/gpt-4o-mini",
            api_base=provider.base_url,
            api_key="sk-test-never-shown",
            retry_wait=0,
            llm_retries=1,
            jwt_secret=SECRET,
        )
        clients = asyncio.run(_seed(settings))
        client = LocalClient.from_settings(settings)
        app = create_app(settings, client, workers_in_process=1, watch_interval=0.05,
                         worker_poll=0.2)  # fmt: skip
        with _Uvicorn(app, client) as url:
            yield Site(url, provider, clients, tmp_path)


@pytest.fixture
def shot(driver: Any) -> Callable[[str], None]:
    """Save a screenshot as NAME.png into $CONTENTGEN_WEB_SCREENSHOTS (if set)."""

    def take(name: str) -> None:
        if SCREENSHOTS is not None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    return take
