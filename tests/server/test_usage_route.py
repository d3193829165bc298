"""GET /usage for admin tokens (the usage report as `contentgen usage --json` prints it), and
the circuit breakers in /metrics."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contentgen.errors import ProviderError
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord

from .support import TOPIC, Token, poll_status


async def _job(http: httpx.AsyncClient, client: str, until: str = "completed") -> str:
    job_id = (await http.post("/generate", json={
        "topic": TOPIC, "content_type": "blog", "client_id": client,
    })).json()["job_id"]  # fmt: skip
    await poll_status(http, job_id, until=until)
    return str(job_id)


async def test_usage_report_for_admins(
    http: httpx.AsyncClient, acme: ClientRecord, globex: ClientRecord, token: Token,
    caller: Callable[[str | None], httpx.AsyncClient], llm: FakeLLM,
) -> None:  # fmt: skip
    await _job(http, "acme")
    await _job(http, "globex")
    llm.enqueue(*[ProviderError("upstream 500", provider="fake", model="fake/writer",
                                kind="server")] * 40)  # fmt: skip
    await _job(http, "globex", until="failed")

    body = (await http.get("/usage")).json()
    assert body["by"] == "client"
    lines = {line["client"]: line for line in body["lines"]}
    assert lines["acme"]["pieces"] == 1 and lines["acme"]["client_id"] == str(acme.id)
    assert lines["globex"]["pieces"] == 1 and lines["globex"]["failures"] == 1
    assert lines["globex"]["failed_calls"] >= 3 and lines["globex"]["retries"] >= 2
    assert body["total"]["calls"] == sum(line["calls"] for line in body["lines"])
    by_model = (await http.get("/usage", params={"by": "model", "client": "acme"})).json()
    assert [line["model"] for line in by_model["lines"]] == ["fake/writer"]
    empty = (await http.get("/usage", params={"since": "2999-01-01T00:00:00Z"})).json()
    assert empty["total"]["calls"] == 0

    assert (await http.get("/usage", params={"by": "week"})).status_code == 400
    assert (await http.get("/usage", params={"bogus": "1"})).status_code == 400
    async with caller(token(clients=[acme.id])) as scoped:
        refused = await scoped.get("/usage")
        assert refused.status_code == 403 and "admin" in refused.json()["error"]
    async with caller(None) as anonymous:
        assert (await anonymous.get("/usage")).status_code == 401


async def test_metrics_show_the_circuit_of_every_model_called(
    http: httpx.AsyncClient, acme: ClientRecord, llm: FakeLLM
) -> None:
    llm.enqueue(*[ProviderError("upstream 500", provider="fake", model="fake/writer",
                                kind="server")] * 40)  # fmt: skip
    await _job(http, "acme", until="failed")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families((await http.get("/metrics")).text)
        for s in family.samples
    }
    labels = (("model", "fake/writer"), ("provider", "fake"))
    assert ("llm_circuit_state", labels) in samples
    assert samples[("llm_circuit_failures", labels)] >= 3
