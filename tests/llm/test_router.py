"""Router: fallback chains, retries, breakers, rate limits and slots, against the local fake
OpenAI-compatible server (issue 10, acceptance 1 and 2; issue 7, points 1, 2, 3, 5, 6, 12, 22)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from contentgen.cache import MemoryCache
from contentgen.client.local import Client
from contentgen.errors import ConfigurationError, JobFailed, MissingKey, ProviderError
from contentgen.llm import CompletionParams, FakeLLM, Router
from contentgen.llm.breaker import Breakers
from contentgen.models import JobFilter, JobStatus
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage
from contentgen.testing import FakeOpenAIServer

TOPIC = "Solar panels for small offices"


def catalogue(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    """Two models on the fake server: srv/a (primary) then srv/b (fallback)."""
    return {
        "endpoints": {"srv": {"api_base": server.base_url, "key_env": "SRV_KEY", **extra}},
        "models": {
            "srv/a": {"endpoint": "srv", "model": "model-a", "tier": 4},
            "srv/b": {"endpoint": "srv", "model": "model-b", "tier": 3},
        },
        "routes": {"balanced": ["srv/a", "srv/b"]},
    }


@pytest.fixture
def srv_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "srv-secret-key-123456"
    monkeypatch.setenv("SRV_KEY", key)
    return key


@pytest.fixture
def settings(openai_server: FakeOpenAIServer, srv_key: str) -> Settings:
    return Settings(catalogue=catalogue(openai_server), retry_wait=0, llm_retries=3,
                    breaker_failures=3, breaker_reset=30, llm_timeout=5)  # fmt: skip


@pytest.fixture
async def cg(settings: Settings) -> AsyncIterator[Client]:
    async with Client.from_settings(settings, storage=MemoryStorage(),
                                    cache=MemoryCache()) as client:  # fmt: skip
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_fallback_and_breaker_counting_calls(
    cg: Client, openai_server: FakeOpenAIServer
) -> None:
    """Acceptance 1: the primary always answers 500 -> jobs complete on the fallback; the
    breaker opens after N failures and later jobs skip the primary without calling it; after
    T it half-opens (one trial call), and a success closes it."""
    clock = Clock()
    cg.router.breakers = Breakers(3, 30, clock=clock)
    openai_server.fail_model("model-a", 500)
    calls = openai_server.requests_by_model

    first = await cg.generate(topic=TOPIC)
    assert first.result is not None and first.result.metadata.model == "srv/b"
    assert (calls["model-a"], calls["model-b"]) == (3, 1)  # 3 attempts, then the fallback
    assert cg.router.breaker_state(cg.router.catalogue.entry("srv/a")) == "open"

    for _ in range(2):
        done = await cg.generate(topic=TOPIC)
        assert done.status is JobStatus.COMPLETED
    assert (calls["model-a"], calls["model-b"]) == (3, 3)  # primary skipped, not called

    clock.now += 31  # half-open: one trial, it fails, open again
    assert cg.router.breaker_state(cg.router.catalogue.entry("srv/a")) == "half_open"
    await cg.generate(topic=TOPIC)
    assert (calls["model-a"], calls["model-b"]) == (4, 4)

    openai_server.clear_faults()
    clock.now += 31  # the trial succeeds: closed again
    healed = await cg.generate(topic=TOPIC)
    assert healed.result is not None and healed.result.metadata.model == "srv/a"
    assert (calls["model-a"], calls["model-b"]) == (5, 4)
    assert cg.router.breaker_state(cg.router.catalogue.entry("srv/a")) == "closed"


async def test_every_attempt_is_a_usage_row(cg: Client, openai_server: FakeOpenAIServer) -> None:
    """Issue 7, point 5: retries and fallbacks are recorded, one usage row per attempt."""
    openai_server.fail_next(2, 503, model="model-a")
    job = await cg.generate(topic=TOPIC)
    rows = await cg.storage.list_usage(job.id)
    assert [r.model for r in rows] == ["srv/a", "srv/a", "srv/a"]
    assert [r.output_tokens > 0 for r in rows] == [False, False, True]


async def test_failed_job_keeps_its_paid_attempts(
    cg: Client, openai_server: FakeOpenAIServer
) -> None:
    openai_server.usage = (100, 0)
    openai_server.empty_next(10)  # empty content: paid, failed, retried, then fallback
    with pytest.raises(JobFailed) as info:
        await cg.generate(topic=TOPIC)
    assert "empty content" in info.value.error
    rows = await cg.storage.list_usage(__import__("uuid").UUID(info.value.job_id))
    assert len(rows) == 6 and all(r.input_tokens == 100 for r in rows)


async def test_retry_after_is_honoured(settings: Settings, openai_server: FakeOpenAIServer) -> None:
    """Acceptance 2: 429 with Retry-After: 1 -> the retry waits >= 1 s and succeeds."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    openai_server.fail_next(1, 429, "rate limited", retry_after=1)
    async with Router(settings, sleep=sleep) as router:
        started = time.perf_counter()
        done = await router.complete("hello", model="srv/a")
        waited = time.perf_counter() - started
    assert slept and slept[0] >= 1.0 and waited >= 1.0
    assert done.text and openai_server.requests_by_model["model-a"] == 2
    assert [a.error is None for a in done.attempts] == [False, True]


async def test_timeouts_are_retried_then_the_fallback(
    settings: Settings, openai_server: FakeOpenAIServer
) -> None:
    """Acceptance 2: timeouts -> retried, then the fallback."""
    openai_server.hang_next(3, seconds=5, model="model-a")
    fast = settings.model_copy(update={"llm_timeout": 0.2})
    async with Router(fast) as router:
        call = router.bind(await _request(), slots=None)
        done = await call("hello")
    assert done.model == "srv/b"
    errors = [a.error for a in done.attempts]
    assert len(errors) == 4 and errors[-1] is None
    assert all("CONTENTGEN_LLM_TIMEOUT" in (e or "") for e in errors[:3])


async def test_unauthorised_is_not_retried_and_names_provider_and_variable(
    cg: Client, openai_server: FakeOpenAIServer, srv_key: str
) -> None:
    """Acceptance 2: 401 -> not retried (nor sent to the fallback); the job fails naming the
    provider and the key variable; the key itself is masked."""
    openai_server.fail_next(1, 401, f"Incorrect API key provided: {srv_key}")
    with pytest.raises(JobFailed) as info:
        await cg.generate(topic=TOPIC)
    assert openai_server.requests == 1
    assert "srv" in info.value.error and "SRV_KEY" in info.value.error
    assert srv_key not in info.value.error and "***" in info.value.error


async def test_malformed_json_fails_with_a_readable_error(
    openai_server: FakeOpenAIServer, srv_key: str
) -> None:
    """Acceptance 2: malformed JSON -> failed with a readable error."""
    settings = Settings(catalogue=catalogue(openai_server), retry_wait=0, llm_retries=2)
    openai_server.malformed_next(10)
    async with Client.from_settings(settings, storage=MemoryStorage(),
                                    cache=MemoryCache()) as cg:  # fmt: skip
        with pytest.raises(JobFailed) as info:
            await cg.generate(topic=TOPIC, model="srv/a")
    assert "not JSON" in info.value.error and "Traceback" not in info.value.error
    assert len(info.value.error.splitlines()) == 1
    assert openai_server.requests_by_model == {"model-a": 2}


async def test_rate_limit_is_taken_per_attempt(openai_server: FakeOpenAIServer) -> None:
    """Issue 7, point 22: the pipeline applies rate limits, once per attempt (a retry too)."""
    fake = FakeLLM()
    fake.enqueue(ProviderError("HTTP 503", provider="openai", model="gpt-4o-mini"))
    settings = Settings(model="openai/gpt-4o-mini", retry_wait=0,
                        rpm_limits={"openai/gpt-4o-mini": 60_000})  # fmt: skip
    async with Client.from_settings(settings, llm=fake, storage=MemoryStorage(),
                                    cache=MemoryCache()) as cg:  # fmt: skip
        await cg.generate(topic=TOPIC)
        await cg.generate(topic=TOPIC)
        assert cg.router.limits.taken["openai/gpt-4o-mini"] == 3 == fake.calls


async def test_call_slot_is_not_held_during_back_off(
    settings: Settings, openai_server: FakeOpenAIServer
) -> None:
    slots = asyncio.Semaphore(1)
    free_while_sleeping: list[bool] = []

    async def sleep(seconds: float) -> None:
        free_while_sleeping.append(not slots.locked())

    openai_server.fail_next(2, 500, model="model-a")
    async with Router(settings.model_copy(update={"retry_wait": 0.5}), sleep=sleep) as router:
        done = await router.bind(await _request(), slots=slots)("hello")
    assert done.text and free_while_sleeping == [True, True]


async def test_explicit_model_always_wins(settings: Settings) -> None:
    async with Router(settings) as router:
        assert router.route(model="srv/b").models == ("srv/b",)
        assert router.route(model="gpt-4o", provider="openai").models == ("openai/gpt-4o",)
        assert router.route(model="openai/gpt-4o", provider="openai").models == ("openai/gpt-4o",)
        assert router.route().models == ("srv/a", "srv/b")


async def test_missing_key_is_refused_before_a_job_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7, point 6: the provider's key is checked before the job is created."""
    settings = Settings(model="anthropic/claude-sonnet-4-5")
    async with Client.from_settings(settings, storage=MemoryStorage(),
                                    cache=MemoryCache()) as cg:  # fmt: skip
        with pytest.raises(MissingKey) as info:
            await cg.submit(topic=TOPIC)
        assert await cg.jobs(JobFilter()) == []
    assert info.value.variable == "ANTHROPIC_API_KEY"
    assert "ANTHROPIC_API_KEY" in str(info.value) and "Traceback" not in str(info.value)


async def test_keys_only_go_to_their_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7, point 2 (the rule is in contentgen.llm.routing)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-real")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real")
    from pydantic import SecretStr

    local = Settings(api_base="http://127.0.0.1:9/v1", api_key=SecretStr("sk-local"))
    async with Router(local) as router:
        entry = router.catalogue.entry
        openai = router.target(entry("openai/gpt-4o-mini"))
        assert (openai.api_base, openai.key) == ("http://127.0.0.1:9/v1", "sk-local")
        anthropic = router.target(entry("anthropic/claude-sonnet-4-5"))
        assert (anthropic.kind, anthropic.api_base, anthropic.key) == ("litellm", None,
                                                                       "sk-ant-real")
    async with Router(Settings(api_base="http://127.0.0.1:9/v1")) as router:
        # OPENAI_API_KEY never goes to a server of your own
        assert router.target(router.catalogue.entry("gpt-4o-mini")).key is None
    async with Router(Settings()) as router:
        openai = router.target(router.catalogue.entry("openai/gpt-4o-mini"))
        assert (openai.api_base, openai.key) == ("https://api.openai.com/v1", "sk-openai-real")


async def test_every_configured_secret_is_masked(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 7, point 12: a secret of another provider echoed by a server is masked too."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-elsewhere-999")
    openai_server.fail_next(5, 500, "debug: env ANTHROPIC_API_KEY=sk-ant-elsewhere-999")
    settings = Settings(api_base=openai_server.base_url, model="openai/gpt-4o-mini",
                        retry_wait=0)  # fmt: skip
    async with Router(settings) as router:
        with pytest.raises(ProviderError) as info:
            await router.complete("hi", model="openai/gpt-4o-mini")
    assert "sk-ant-elsewhere-999" not in str(info.value)
    assert "sk-ant-elsewhere-999" not in repr(info.value.attempts)


async def test_api_base_without_model_uses_the_servers_model(
    openai_server: FakeOpenAIServer,
) -> None:
    """Issue 7, point 3: the server's model from /v1/models, or a refusal with a message."""
    openai_server.models = ("served-model",)
    async with Router(Settings(api_base=openai_server.base_url)) as router:
        route = await router.check(priority="cost")
        assert route.primary == "openai/served-model" and "/models" in route.reason
        done = await router.bind(await _request()).__call__("hello")
    assert openai_server.requests_by_model["served-model"] == 1 and done.text


async def test_api_base_without_model_refuses_when_the_server_lists_nothing(
    closed_port_url: str,
) -> None:
    async with Router(Settings(api_base=closed_port_url)) as router:
        with pytest.raises(ConfigurationError, match="set CONTENTGEN_MODEL"):
            await router.check()


async def test_finish_reason_length_is_kept(
    settings: Settings, openai_server: FakeOpenAIServer
) -> None:
    """Issue 7, point 1: the finish reason is stored on every call."""
    openai_server.truncate_next(1)
    async with Router(settings) as router:
        done = await router.complete("hi", model="srv/a", params=CompletionParams())
    assert done.finish_reason == "length" and done.attempts[-1].finish_reason == "length"


async def test_generation_time_excludes_backend_start_up() -> None:
    class SlowStart(FakeLLM):
        async def warm(self, model: str) -> None:
            await asyncio.sleep(0.5)  # an import of litellm, a model load

    settings = Settings(model="openai/gpt-4o-mini")
    async with Client.from_settings(settings, llm=SlowStart(), storage=MemoryStorage(),
                                    cache=MemoryCache()) as cg:  # fmt: skip
        job = await cg.generate(topic=TOPIC)
    assert job.result is not None and job.result.metadata.generation_time_ms < 500


async def _request() -> Any:
    from contentgen.models import ContentRequest

    return ContentRequest(client_id=__import__("uuid").uuid4(), topic=TOPIC, content_type="blog")


@pytest.mark.parametrize("backend", ["aiohttp", "litellm"])
async def test_a_stream_dropped_mid_reply_is_retried_and_the_restart_is_announced(
    settings: Settings, openai_server: FakeOpenAIServer, backend: str
) -> None:
    """The connection drops half-way through a streamed reply: the call is retried, the text
    shown so far is followed by a restart note (not silently repeated), the result is the
    retry's whole reply, and both attempts are accounted for."""
    from contentgen.llm.streamed_text import RESTART

    openai_server.reply = "one two three four five six seven eight nine ten"
    openai_server.drop_next(1)
    shown: list[str] = []
    async with Router(settings.model_copy(update={"llm_backend": backend})) as router:
        done = await router.complete("Write", model="srv/a", on_text=shown.append)
        assert done.text == openai_server.reply
        streamed = "".join(shown)
        first, _, second = streamed.partition(RESTART)
        assert second == openai_server.reply and first and openai_server.reply.startswith(first)
        assert [a.error is not None for a in done.attempts] == [True, False]
        broken = done.attempts[0]  # paid for: the prompt and the tokens that came, counted
        assert "broke off after" in (broken.error or "")
        assert broken.input_tokens > 0 and 0 < broken.output_tokens < done.attempts[1].output_tokens
        assert openai_server.requests_by_model["model-a"] == 2
        shown.clear()
        again = await router.complete("Write", model="srv/a", on_text=shown.append)
        assert "".join(shown) == again.text  # no failure: no note
        openai_server.drop_next(1)
        plain = await router.complete("Write", model="srv/a")  # not streamed: a reset
        assert plain.text == openai_server.reply and len(plain.attempts) == 2
        if backend == "aiohttp":
            assert "closed the connection before it answered" in (plain.attempts[0].error or "")
