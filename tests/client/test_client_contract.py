"""One client contract, run against both implementations: ``LocalClient`` and ``RemoteClient``
(over the app in process, through httpx's ASGI transport). Same calls, same results, same
errors — including scope: another client's job, prompt job or record is NotFound exactly like
a missing one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contentgen.cache import MemoryCache
from contentgen.client.base import ContentClient
from contentgen.client.local import LocalClient
from contentgen.client.remote import RemoteClient
from contentgen.errors import (
    ClientNotFound,
    Conflict,
    InvalidInput,
    JobFailed,
    JobNotFound,
    PromptJobNotFound,
    ProviderError,
)
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord
from contentgen.models import JobFilter, JobStatus, PromptRequest
from contentgen.server.app import create_app
from contentgen.server.security import create_token
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage

SECRET = "contract-secret-long-enough-for-hs256-keys"
TOPIC = "Solar energy benefits for small offices"


@dataclass
class World:
    local: LocalClient
    llm: FakeLLM
    acme: ClientRecord
    globex: ClientRecord


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    llm = FakeLLM()
    settings = Settings(home=tmp_path / "home", model="openai/gpt-4o-mini", retry_wait=0,
                        jwt_secret=SECRET)  # fmt: skip
    async with LocalClient.from_settings(settings, llm=llm, storage=MemoryStorage(),
                                         cache=MemoryCache()) as local:  # fmt: skip
        acme = await local.add_client("acme")
        globex = await local.add_client("globex")
        yield World(local, llm, acme, globex)


class ClientContract:
    """Subclasses give ``cg`` (every client, admin) and ``acme_only`` (scoped to acme)."""

    async def test_generate_completes(self, cg: ContentClient, world: World) -> None:
        job = await cg.generate(topic=TOPIC, client="acme", keywords=["solar"], timeout=10)
        assert job.status is JobStatus.COMPLETED
        assert job.result is not None and len(job.result.content) > 100
        assert job.client_id == world.acme.id and job.params.keywords == ["solar"]

    async def test_submit_then_wait_then_status(self, cg: ContentClient, world: World) -> None:
        request = await cg.make_request("acme", topic=TOPIC, content_type="social")
        assert request.client_id == world.acme.id
        job_id = await cg.submit(request)
        waited = await cg.wait(job_id, timeout=10)
        assert waited.id == job_id and waited.status is JobStatus.COMPLETED
        again = await cg.status(str(job_id))
        assert again.status is JobStatus.COMPLETED and again.result == waited.result
        assert again.params.content_type.value == "social"

    async def test_a_failed_job_raises_job_failed(self, cg: ContentClient, world: World) -> None:
        world.llm.enqueue(*[ProviderError("boom", provider="openai", model="x")] * 10)
        with pytest.raises(JobFailed) as caught:
            await cg.generate(topic=TOPIC, client="acme", timeout=10)
        assert "boom" in caught.value.error
        failed = await cg.status(caught.value.job_id)
        assert failed.status is JobStatus.FAILED

    async def test_invalid_fields_name_the_field(self, cg: ContentClient) -> None:
        with pytest.raises(InvalidInput) as caught:
            await cg.make_request("acme", topic="hey")
        assert caught.value.field == "topic"
        assert caught.value.message == "topic: must be at least 5 characters (got 3)"
        with pytest.raises(InvalidInput) as caught:
            await cg.submit(topic=TOPIC, client="acme", content_type="video")
        assert caught.value.field == "content_type"

    async def test_unknown_things_are_not_found(self, cg: ContentClient) -> None:
        with pytest.raises(JobNotFound):
            await cg.status(uuid.uuid4())
        with pytest.raises(JobNotFound):
            await cg.wait(uuid.uuid4(), timeout=5)
        with pytest.raises(ClientNotFound):
            await cg.resolve_client("nobody")
        with pytest.raises(ClientNotFound):
            await cg.submit(topic=TOPIC, client="nobody")
        with pytest.raises(PromptJobNotFound):
            await cg.get_prompt(uuid.uuid4())

    async def test_jobs_newest_first_in_pages(self, cg: ContentClient, world: World) -> None:
        ids = [await cg.submit(topic=f"{TOPIC} {i}", client="acme") for i in range(5)]
        for job_id in ids:
            await cg.wait(job_id, timeout=10)
        await cg.generate(topic=TOPIC, client="globex", timeout=10)
        listed = await cg.jobs(JobFilter(client_id=world.acme.id, limit=10))
        assert [j.id for j in listed] == ids[::-1]
        first = await cg.jobs_page(JobFilter(client_id=world.acme.id, limit=2))
        assert [j.id for j in first.jobs] == ids[::-1][:2] and first.next_cursor
        second = await cg.jobs_page(JobFilter(client_id=world.acme.id, limit=2),
                                    cursor=first.next_cursor)  # fmt: skip
        assert [j.id for j in second.jobs] == ids[::-1][2:4]
        done = await cg.jobs(status=JobStatus.COMPLETED, limit=100)
        assert len(done) == 6

    async def test_cancel_and_retry(self, cg: ContentClient, world: World) -> None:
        done = await cg.generate(topic=TOPIC, client="acme", timeout=10)
        with pytest.raises(Conflict):
            await cg.cancel(done.id)
        with pytest.raises(Conflict):
            await cg.retry(done.id)
        world.llm.enqueue(*[ProviderError("boom", provider="openai", model="x")] * 10)
        with pytest.raises(JobFailed) as caught:
            await cg.generate(topic=TOPIC, client="acme", timeout=10)
        world.llm._queue.clear()  # the model works again
        retried = await cg.retry(caught.value.job_id)
        assert retried.status is JobStatus.PENDING and retried.error is None
        again = await cg.wait(retried.id, timeout=10)
        assert again.status is JobStatus.COMPLETED
        with pytest.raises(JobNotFound):
            await cg.cancel(uuid.uuid4())

    async def test_prompts(self, cg: ContentClient, world: World) -> None:
        built = await cg.prompt("acme", topic=TOPIC, keywords=["solar"])
        assert TOPIC in built.prompt
        assert built.metadata.client_id == world.acme.id and "solar" in built.metadata.keywords
        job_id = await cg.generate_prompt(
            PromptRequest(topic=TOPIC, content_type="local", client_id=world.acme.id)
        )
        for _ in range(200):
            job = await cg.get_prompt(job_id)
            if job.status.finished:
                break
            await asyncio.sleep(0.01)
        assert job.status is JobStatus.COMPLETED and job.prompt and TOPIC in job.prompt
        assert job.metadata is not None and job.metadata.content_type.value == "local"

    async def test_clients_and_strategies(self, cg: ContentClient, world: World) -> None:
        assert {c.name for c in await cg.list_clients()} >= {"acme", "globex"}
        assert (await cg.resolve_client(str(world.acme.id))).name == "acme"
        stored = await cg.set_strategy("acme", {"tone": {"voice": "warm"}})
        assert stored.version == 1 and stored.active
        again = await cg.set_strategy("acme", {"tone": {"voice": "warm"}})
        assert again.version == 1
        newer = await cg.set_strategy("acme", {"tone": {"voice": "calm"}}, name="winter")
        assert newer.version == 2 and newer.name == "winter"
        assert (await cg.get_strategy("acme")).version == 2
        assert (await cg.get_strategy("acme", 1)).config.tone.voice == "warm"
        setup = await cg.effective_setup("acme")
        assert setup.config.tone.voice == "calm" and setup.strategy_version == 2
        with pytest.raises(InvalidInput) as caught:
            await cg.set_strategy("acme", {"content_guidelines": {"min_words": "lots"}})
        assert caught.value.field == "content_guidelines.min_words"

    async def test_scope_hides_other_clients_like_missing_ones(
        self, acme_only: ContentClient, world: World
    ) -> None:
        theirs = await world.local.submit(topic=TOPIC, client="globex")
        prompt_job = await world.local.generate_prompt(
            PromptRequest(topic=TOPIC, content_type="blog", client_id=world.globex.id)
        )
        ours = await acme_only.generate(topic=TOPIC, client="acme", timeout=10)
        assert [c.name for c in await acme_only.list_clients()] == ["acme"]
        assert [j.id for j in await acme_only.jobs(limit=50)] == [ours.id]
        with pytest.raises(JobNotFound):
            await acme_only.status(theirs)
        with pytest.raises(ClientNotFound):
            await acme_only.resolve_client("globex")
        with pytest.raises(ClientNotFound):
            await acme_only.submit(topic=TOPIC, client="globex")
        with pytest.raises(ClientNotFound):
            await acme_only.jobs(JobFilter(client_id=world.globex.id))
        with pytest.raises(PromptJobNotFound):
            await acme_only.get_prompt(prompt_job)
        with pytest.raises(ClientNotFound):
            await acme_only.effective_setup("globex")
        with pytest.raises(JobNotFound):
            await acme_only.cancel(theirs)


async def test_a_view_of_several_clients_pages_through_all_their_jobs(world: World) -> None:
    """A scope of several clients (not one, not all) merges its clients' pages."""
    local = world.local
    local.run_submitted = False  # jobs stay pending: only listing here
    initech = await local.add_client("initech")
    made = []
    for i in range(7):
        for client in ("acme", "globex", "initech"):
            made.append((client, await local.submit(topic=f"{TOPIC} {i}", client=client)))
    view = local.scoped(frozenset({world.acme.id, initech.id}))
    expected = [job_id for client, job_id in reversed(made) if client != "globex"]
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(20):
        page = await view.jobs_page(JobFilter(limit=3), cursor=cursor)
        seen += [j.id for j in page.jobs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert [j.id for j in await view.jobs(limit=100)] == expected


class TestLocalClient(ClientContract):
    @pytest.fixture
    def cg(self, world: World) -> LocalClient:
        return world.local

    @pytest.fixture
    def acme_only(self, world: World) -> LocalClient:
        return world.local.scoped(frozenset({world.acme.id}))


class TestRemoteClient(ClientContract):
    @pytest.fixture
    async def app_transport(self, world: World) -> AsyncIterator[httpx.ASGITransport]:
        app = create_app(world.local.settings, world.local, workers_in_process=2,
                         worker_poll=0.05, watch_interval=0.02)  # fmt: skip
        async with app.router.lifespan_context(app):
            yield httpx.ASGITransport(app)

    @pytest.fixture
    async def cg(self, app_transport: httpx.ASGITransport) -> AsyncIterator[RemoteClient]:
        token = create_token(SECRET, clients=None, admin=True)
        async with RemoteClient("http://testserver", token=token,
                                transport=app_transport) as client:  # fmt: skip
            yield client

    @pytest.fixture
    async def acme_only(
        self, app_transport: httpx.ASGITransport, world: World
    ) -> AsyncIterator[RemoteClient]:
        token = create_token(SECRET, clients=[world.acme.id])
        async with RemoteClient("http://testserver", token=token,
                                transport=app_transport) as client:  # fmt: skip
            yield client
