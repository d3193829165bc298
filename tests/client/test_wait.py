"""Issue 7, point 22: `wait()` honours its timeout (a one-line breakage the suite used to miss):
it gives up with TimeoutError while the job runs on, and a later wait still gets the result."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from contentgen.cache import MemoryCache
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.models import JobStatus
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage


class GatedLLM(FakeLLM):
    """Answers like ``FakeLLM``, but only once ``gate`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def complete(self, prompt: str, **kwargs: Any) -> Any:
        await self.gate.wait()
        return await super().complete(prompt, **kwargs)

    async def aclose(self) -> None:
        self.gate.set()
        await super().aclose()


async def test_wait_gives_up_after_its_timeout_and_the_job_runs_on(settings: Settings) -> None:
    llm = GatedLLM()
    async with Client.from_settings(settings, llm=llm, storage=MemoryStorage(),
                                    cache=MemoryCache()) as cg:  # fmt: skip
        job_id = await cg.submit(topic="Solar panels for offices", content_type="blog")
        for waiting in (cg.wait(job_id, timeout=0.3, poll=0.05),
                        cg.generate(topic="Heat pumps in cold climates", timeout=0.3)):  # fmt: skip
            task = asyncio.ensure_future(waiting)
            done, _ = await asyncio.wait({task}, timeout=15)
            if not done:  # a wait() that ignores its timeout would block here forever
                task.cancel()
                llm.gate.set()  # let the job end, so the client closes
                pytest.fail("wait() did not give up after its timeout")
            assert isinstance(task.exception(), TimeoutError)
        assert not (await cg.status(job_id)).status.finished
        llm.gate.set()
        job = await cg.wait(job_id, timeout=30)
        assert job.status is JobStatus.COMPLETED and job.result is not None
