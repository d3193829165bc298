"""The router takes shared rpm/tpm turns (Redis) before every provider call and settles tokens."""

from __future__ import annotations

import asyncio
import time
import uuid

from pydantic import SecretStr

from contentgen.llm.router import Router
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"


async def test_routers_in_several_workers_share_one_rpm_budget(
    redis_url: str, tmp_path: object
) -> None:
    if (left := 60 - time.time() % 60) < 5:  # tpm counts per clock minute: stay inside one
        await asyncio.sleep(left + 0.05)
    async with FakeOpenAIServer(usage=(10, 20)) as provider:
        settings = Settings(
            api_base=provider.base_url, api_key=SecretStr("sk-test"), retry_wait=0,
            rpm_limits={MODEL: 4}, tpm_limits={MODEL: 10_000},
            rate_limit_url=redis_url.rsplit("/", 1)[0] + "/3",
        )  # fmt: skip
        routers = [Router(settings) for _ in range(3)]
        ns = f"t-{uuid.uuid4().hex}"
        for router in routers:
            assert router.shared_limits is not None and router.shared_limits.shared
            router.shared_limits._ns = ns  # this test's own counters in the shared Redis

        async def call(router: Router) -> bool:
            try:
                await asyncio.wait_for(router.complete("Write about tea", model=MODEL), 2)
            except TimeoutError:
                return False
            return True

        try:
            done = await asyncio.gather(*(call(routers[i % 3]) for i in range(9)))
        finally:
            for router in routers:
                await router.aclose()
        assert sum(done) == 4
        assert provider.requests == 4
        assert routers[0].shared_limits is not None
        assert await routers[0].shared_limits.used(MODEL) == 4 * 30  # settled to real usage
