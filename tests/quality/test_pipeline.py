"""The compliance report through the pipeline: stored, summarised, served, paid for, and in
batch outputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from contentgen.batch.runner import prepare_out_dir, run_file
from contentgen.cache.memory import MemoryCache
from contentgen.client.local import Client
from contentgen.errors import JobFailed
from contentgen.llm.fake import FakeLLM
from contentgen.models import JobStatus
from contentgen.settings import Settings
from contentgen.storage.sqlite import SqliteStorage

from .test_writer import PIECE, STRATEGY


def open_client(tmp_path: Path, fake: FakeLLM, rounds: int = 0) -> Client:
    settings = Settings(home=tmp_path / "home", model="openai/gpt-4o-mini", retry_wait=0,
                        repair_rounds=rounds)  # fmt: skip
    return Client.from_settings(settings, llm=fake, storage=SqliteStorage(tmp_path / "db"),
                                cache=MemoryCache())  # fmt: skip


async def test_the_report_is_stored_summarised_in_seo_notes_and_served(tmp_path: Path) -> None:
    fake = FakeLLM([PIECE])
    async with open_client(tmp_path, fake) as cg:
        await cg.add_client("acme")
        await cg.set_strategy("acme", STRATEGY)
        job = await cg.generate(topic="Solar heat for offices", client="acme",
                                keywords=["heat pump"])  # fmt: skip
    async with open_client(tmp_path, FakeLLM()) as cg:  # read back from the database
        stored = await cg.status(job.id)
    assert stored.result is not None
    meta = stored.result.metadata
    assert meta.compliance is not None and not meta.compliance.passed
    assert meta.compliance.mode == "single"
    assert meta.seo_notes is not None
    assert meta.seo_notes.startswith("compliance 0.90 (9/10 checks passed)")
    assert "keyword 'heat pump' not used" in meta.seo_notes
    served = stored.status_view()["result"]["metadata"]["compliance"]
    assert served["score"] == 0.9 and served["passed"] is False
    assert {"name": "keyword:heat pump", "passed": False, "measured": 0.0, "target": "used",
            "message": "keyword 'heat pump' not used"} in served["checks"]  # fmt: skip


async def test_every_repair_call_is_recorded_as_usage(tmp_path: Path) -> None:
    fake = FakeLLM([PIECE])  # then the stock article for every repair call
    async with open_client(tmp_path, fake, rounds=2) as cg:
        await cg.add_client("acme")
        await cg.set_strategy("acme", STRATEGY)
        job = await cg.generate(topic="Solar heat for offices", client="acme",
                                keywords=["heat pump", "wind turbine"])  # fmt: skip
        usage = await cg.storage.list_usage(job.id)
    assert job.result is not None
    assert fake.calls > 1 and len(usage) == fake.calls
    assert job.result.metadata.token_usage.output == sum(u.output_tokens for u in usage)
    assert job.result.metadata.compliance is not None
    assert job.result.metadata.compliance.repair_rounds >= 1


async def test_a_strategy_can_fail_a_noncompliant_job_and_its_calls_are_still_paid(
    tmp_path: Path,
) -> None:
    strict = {"content_guidelines": {**STRATEGY["content_guidelines"],
                                     "fail_on_noncompliance": True}}  # fmt: skip
    fake = FakeLLM([PIECE], default="No.")
    async with open_client(tmp_path, fake, rounds=1) as cg:
        await cg.add_client("acme")
        await cg.set_strategy("acme", strict)
        with pytest.raises(JobFailed) as info:
            await cg.generate(topic="Solar heat for offices", client="acme",
                              keywords=["wind turbine"])  # fmt: skip
        job = await cg.status(info.value.job_id)
        usage = await cg.storage.list_usage(job.id)
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "keyword 'wind turbine' not used" in job.error
    assert "fail_on_noncompliance" in job.error
    assert len(usage) == fake.calls == 2


async def test_batch_outputs_carry_the_compliance_score(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("topic,content_type,client,keywords\n"
                    "Solar heat for offices,blog,acme,heat pump\n", encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    async with open_client(tmp_path, FakeLLM([PIECE])) as cg:
        await cg.add_client("acme")
        await cg.set_strategy("acme", STRATEGY)
        prepare_out_dir(out, resume=False)
        summary = await run_file(cg, path, out)
    assert summary.done == 1
    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["compliance"] == "0.900"
    piece = (out / rows[0]["output_file"]).read_text(encoding="utf-8")
    head = yaml.safe_load(piece.split("---\n")[1])
    assert head["compliance"] == 0.9


async def test_a_piece_is_parsed_once_however_many_steps_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer, the analysis and the stored result each read the piece; markdown-it runs
    once for it (it was three times: the most CPU of a batch row)."""
    from contentgen.quality import markdown

    bodies: list[str] = []
    real = markdown._parser

    class Counting:
        def parse(self, body: str) -> list[object]:
            bodies.append(body)
            return real().parse(body)  # type: ignore[no-any-return]

    monkeypatch.setattr(markdown, "_parser", Counting)
    markdown.parse.cache_clear()
    async with open_client(tmp_path, FakeLLM([PIECE])) as cg:
        await cg.add_client("acme")
        await cg.set_strategy("acme", STRATEGY)
        job = await cg.generate(topic="Solar heat for offices", client="acme",
                                keywords=["heat pump"])  # fmt: skip
    assert job.result is not None and job.result.metadata.compliance is not None
    assert len(bodies) == len(set(bodies)) >= 1
    doc = markdown.parse(PIECE)
    assert doc is markdown.parse(PIECE)
    with pytest.raises(AttributeError):
        doc.body = ""  # type: ignore[misc]
