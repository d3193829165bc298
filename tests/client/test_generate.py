from __future__ import annotations

import asyncio

import pytest

from contentgen.cache.memory import MemoryCache
from contentgen.client.local import Client
from contentgen.errors import ClientNotFound, InvalidInput, JobFailed, ProviderError
from contentgen.llm.base import Completion, CompletionParams
from contentgen.llm.fake import FakeLLM
from contentgen.models import JobFilter, JobStatus
from contentgen.settings import Settings
from contentgen.storage.memory import MemoryStorage

ARTICLE = "# Solar Power for Offices\n\n## Why\n\nSolar panels cut bills. A heat pump helps too.\n"


async def test_generate_completes_with_reference_metadata(cg: Client, fake: FakeLLM) -> None:
    fake.enqueue(ARTICLE)
    job = await cg.generate(topic="Solar for offices", keywords=["solar", "wind", "heat pump"])
    assert job.status is JobStatus.COMPLETED
    assert job.result is not None
    assert job.result.title == "Solar Power for Offices"
    meta = job.result.metadata
    assert meta.keywords_used == ["solar", "heat pump"]
    assert meta.word_count == 14
    assert meta.model == "openai/gpt-4o-mini"
    assert meta.token_usage.output == len(ARTICLE.split())
    assert meta.token_usage.input > 0
    assert meta.generation_time_ms >= 0
    usage = await cg.storage.list_usage(job.id)
    assert len(usage) == 1 and usage[0].cost == meta.generation_cost
    view = job.status_view()
    assert set(view) >= {"job_id", "status", "result", "created_at", "updated_at"}
    assert set(view["result"]["metadata"]) >= {
        "word_count", "keywords_used", "llm_provider", "model", "generation_cost",
        "generation_time_ms", "token_usage",
    }  # fmt: skip


async def test_submit_returns_at_once_and_job_is_pending_or_running(settings: Settings) -> None:
    slow = FakeLLM(default=ARTICLE, latency=0.2)
    async with Client.from_settings(
        settings, llm=slow, storage=MemoryStorage(), cache=MemoryCache()
    ) as cg:
        job_id = await cg.submit(topic="Solar for offices", content_type="blog")
        first = await cg.status(job_id)
        assert first.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)
        done = await cg.wait(job_id, timeout=5)
        assert done.status is JobStatus.COMPLETED


async def test_title_is_generated_when_model_writes_none(cg: Client, fake: FakeLLM) -> None:
    fake.enqueue("Plain text about solar power without any heading at all.")
    job = await cg.generate(topic="why solar pays off")
    assert job.result is not None
    assert job.result.title == "Why Solar Pays Off"
    assert job.result.content.startswith("# Why Solar Pays Off\n")


async def test_provider_error_leaves_job_failed_with_readable_error(
    cg: Client, fake: FakeLLM
) -> None:
    # a request the provider refuses (not retried; the router adds what was tried)
    fake.enqueue(ProviderError("HTTP 400 from openai: bad request", provider="openai",
                               model="gpt-4o-mini", kind="bad_request"))  # fmt: skip
    with pytest.raises(JobFailed) as info:
        await cg.generate(topic="Solar for offices")
    job = await cg.status(info.value.job_id)
    assert job.status is JobStatus.FAILED
    assert job.error == "HTTP 400 from openai: bad request [1 attempt: openai/gpt-4o-mini x1]"
    assert job.result is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"topic": "abc"}, "topic"),
        ({"topic": "Solar power", "content_type": "video"}, "content_type"),
        ({"topic": "Solar power", "keywords": [f"k{i}" for i in range(11)]}, "keywords"),
        ({"topic": "Solar power", "keywords": ["x" * 51]}, "keywords"),
        ({"topic": "Solar <script>alert(1)</script>"}, "topic"),
        ({"topic": "Solar power", "length": "huge"}, "length"),
        ({"topic": "Solar power", "priority": "cheap"}, "priority"),
    ],
)
async def test_bad_input_never_creates_a_job(
    cg: Client, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        await cg.submit(**fields)
    assert info.value.field is not None and info.value.field.startswith(field)
    assert str(info.value).startswith(f"{field}")
    assert "\n" not in str(info.value)
    assert await cg.jobs(JobFilter()) == []


async def test_unknown_client_never_creates_a_job(cg: Client) -> None:
    with pytest.raises(ClientNotFound) as info:
        await cg.submit(topic="Solar power", client="nobody")
    assert str(info.value).startswith("client:")
    assert await cg.jobs(JobFilter()) == []


async def test_default_client_is_created_with_a_default_strategy(cg: Client) -> None:
    client = await cg.resolve_client(None)
    assert client.name == "default"
    strategy = await cg.get_strategy(None)
    assert strategy.version == 1 and strategy.config.tone.formality == "professional"
    assert (await cg.resolve_client("default")).id == client.id


class _Counting:

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.02)
        self.running -= 1
        return Completion(ARTICLE, 10, 10, 0.0, 20, "fake", model)

    async def aclose(self) -> None:
        pass


async def test_runner_bounds_concurrency(settings: Settings) -> None:
    llm = _Counting()
    settings = settings.model_copy(update={"concurrency": 3})
    async with Client.from_settings(
        settings, llm=llm, storage=MemoryStorage(), cache=MemoryCache()
    ) as cg:
        ids = [await cg.submit(topic=f"Solar topic {i}") for i in range(10)]
        jobs = [await cg.wait(i, timeout=10) for i in ids]
    assert all(j.status is JobStatus.COMPLETED for j in jobs)
    assert llm.peak == 3


async def test_small_models_write_section_by_section(cg: Client, fake: FakeLLM) -> None:
    job = await cg.generate(topic="Solar for offices", mode="sections")
    assert job.result is not None
    prompts = [p for _, p in fake.history]
    assert prompts[0].startswith("A title, then ")  # the outline
    assert all("for the part" in p or "to open the" in p for p in prompts[1:])
    content = job.result.content
    assert content.startswith(f"# {job.result.title}\n\n## Introduction\n")
    headings = [line[3:] for line in content.splitlines() if line.startswith("## ")]
    required = ["Introduction", "Key Benefits", "How to Get Started", "Conclusion"]
    assert [h for h in headings if h in required] == required  # all, in order
    assert len(headings) > len(required)  # body sections for the length
    usage = await cg.storage.list_usage(job.id)
    assert len(usage) == fake.calls
    assert job.result.metadata.token_usage.output == sum(u.output_tokens for u in usage)
    assert job.result.metadata.compliance is not None
    assert job.result.metadata.compliance.mode == "sections"
