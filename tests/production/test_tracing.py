"""OpenTelemetry spans of a job (issue 10): prompt building, every provider attempt (a failed
one too), analysis and storing, inside the job's span, each carrying the job and client ids;
attempts carry model, tokens and cost. With tracing off, OpenTelemetry is not even imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.models import JobStatus
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage
from contentgen.testing import FakeOpenAIServer
from contentgen.tracing import CLIENT_ID, JOB_ID, Tracing

CATALOGUE = {"models": {"openai/gpt-4o-mini": {"price_in": 1.0, "price_out": 2.0}}}


async def test_a_job_is_traced_span_by_span(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with FakeOpenAIServer(usage=(100, 50)) as server:
        settings = Settings(home=tmp_path / "home", api_base=server.base_url, retry_wait=0,
                            model="openai/gpt-4o-mini", catalogue=CATALOGUE)  # fmt: skip
        async with LocalClient.from_settings(settings, storage=MemoryStorage(),
                                             cache=MemoryCache()) as cg:  # fmt: skip
            cg.pipeline.tracing = Tracing(True, provider)
            server.fail_next(1, 500)  # one failed attempt, then a retry that succeeds
            job = await cg.generate(topic="Solar panels for small offices")
    assert job.status is JobStatus.COMPLETED
    spans = {s.name: s for s in exporter.get_finished_spans()}
    names = [s.name for s in exporter.get_finished_spans()]
    assert {"contentgen.job", "contentgen.prompt", "contentgen.llm.attempt",
            "contentgen.analysis", "contentgen.store"} <= set(names)  # fmt: skip
    root = spans["contentgen.job"]
    for found in exporter.get_finished_spans():
        attrs = found.attributes or {}
        assert attrs[JOB_ID] == str(job.id) and attrs[CLIENT_ID] == str(job.client_id)
        assert found.context.trace_id == root.context.trace_id
        if found is not root:
            assert found.parent is not None
    attempts = [s for s in exporter.get_finished_spans() if s.name == "contentgen.llm.attempt"]
    failed, ok = attempts
    assert failed.attributes["contentgen.error_kind"] == "server"  # type: ignore[index]
    assert not failed.status.is_ok
    attrs = ok.attributes or {}
    assert attrs["gen_ai.request.model"] == "openai/gpt-4o-mini"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (100, 50)
    assert attrs["contentgen.cost_usd"] == pytest.approx(100e-6 + 50 * 2e-6)
    assert spans["contentgen.store"].attributes["contentgen.status"] == "completed"  # type: ignore[index]
    assert root.attributes["contentgen.status"] == "completed"  # type: ignore[index]
    assert "contentgen.passed" in (spans["contentgen.analysis"].attributes or {})


def test_opentelemetry_is_not_imported_when_tracing_is_off(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from contentgen.client.local import LocalClient\n"
        "from contentgen.llm.fake import FakeLLM\n"
        "from contentgen.settings import Settings\n"
        "async def main():\n"
        f"    s = Settings(home={str(tmp_path)!r}, database_url='memory://', cache_url='memory://')\n"
        "    async with LocalClient.from_settings(s, llm=FakeLLM()) as cg:\n"
        "        await cg.generate(topic='Solar panels for small offices', model='fake/x')\n"
        "asyncio.run(main())\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
