"""Batch runs at the library level, counting provider calls with FakeLLM."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
import yaml

from contentgen.batch.csv_input import Rejection
from contentgen.batch.runner import prepare_out_dir, run_file, validate_file
from contentgen.cache.memory import MemoryCache
from contentgen.client.local import Client
from contentgen.errors import InvalidInput, ProviderError
from contentgen.llm.base import Completion
from contentgen.llm.fake import FakeLLM
from contentgen.models import JobFilter, JobStatus
from contentgen.settings import Settings
from contentgen.storage.sqlite import SqliteStorage

HEADER = "topic,content_type,client,keywords,length,priority,model\n"


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def make_client(tmp_path: Path, llm: FakeLLM) -> Client:
    settings = Settings(home=tmp_path / "home", model="openai/gpt-4o-mini", retry_wait=0)
    return Client.from_settings(
        settings, llm=llm, storage=SqliteStorage(tmp_path / "db.sqlite"), cache=MemoryCache()
    )


def good_rows(n: int) -> list[str]:
    return [f"Solar topic number {i},blog,acme,solar;roof|panels,short,cost," for i in range(n)]


async def test_bad_rows_are_reported_by_number_and_good_rows_run(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [
        "Solar panels for offices,blog,acme,solar;roof,short,,",          # row 2: good
        "abc,blog,acme,,,,",                                               # row 3: topic
        "Heat pumps in winter,video,acme,,,,",                             # row 4: content_type
        "Wind power basics,blog,acme," + ";".join(f"k{i}" for i in range(11)) + ",,,",  # row 5
        "Geothermal for homes,blog,nobody,,,,",                            # row 6: client
        "Battery storage explained,social,,battery,,,",                    # row 7: good, default
    ])  # fmt: skip
    fake = FakeLLM()
    out = tmp_path / "out"
    rejected: list[Rejection] = []
    async with make_client(tmp_path, fake) as cg:
        await cg.add_client("acme")
        prepare_out_dir(out, resume=False)
        plan = await validate_file(cg, path, out, rejected.append)
        assert plan.good == 2 and plan.rejected == 4
        assert fake.calls == 0  # validated before anything is spent
        summary = await run_file(cg, path, out)
        jobs = await cg.jobs(JobFilter(limit=100))
    assert [(r.number, r.column) for r in rejected] == [
        (3, "topic"), (4, "content_type"), (5, "keywords"), (6, "client")
    ]
    assert "at least 5 characters" in rejected[0].reason
    assert "at most 10 keywords" in rejected[2].reason
    assert summary.done == 2 and summary.failed == 0 and fake.calls == 2
    assert len(jobs) == 2 and all(j.status is JobStatus.COMPLETED for j in jobs)
    with (out / "rejected.csv").open() as fh:
        rej_rows = list(csv.DictReader(fh))
    assert [r["row"] for r in rej_rows] == ["3", "4", "5", "6"]
    assert rej_rows[3]["client"] == "nobody"
    assert_outputs_match_db(out, {j.id.hex: j for j in jobs})


def assert_outputs_match_db(out: Path, jobs: dict[str, object]) -> None:
    with (out / "results.csv").open() as fh:
        results = list(csv.DictReader(fh))
    assert results, "results.csv is empty"
    for line in results:
        job = jobs[line["job_id"].replace("-", "")]
        assert line["status"] == job.status.value  # type: ignore[attr-defined]
        if line["status"] == "completed":
            meta = job.result.metadata  # type: ignore[attr-defined]
            assert int(line["words"]) == meta.word_count
            assert float(line["cost"]) == pytest.approx(meta.generation_cost, abs=1e-8)
            text = (out / line["output_file"]).read_text()
            head = yaml.safe_load(text.split("---\n")[1])
            assert head["job_id"] == line["job_id"]
            assert head["word_count"] == meta.word_count
            assert text.split("---\n", 2)[2].strip() == job.result.content.strip()  # type: ignore[attr-defined]


async def test_interrupted_run_resumes_without_paying_twice(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", good_rows(12))
    out = tmp_path / "out"
    fake = FakeLLM()
    fake.enqueue("# A\n\nok text here.", "# B\n\nok text here.",
                 ProviderError("HTTP 400", provider="openai", model="gpt-4o-mini",
                               kind="bad_request"))  # fmt: skip
    stop = asyncio.Event()

    def stop_after_five(outcome: object, summary: object) -> None:
        if summary.done + summary.failed >= 5:  # type: ignore[attr-defined]
            stop.set()  # what Ctrl-C does

    async with make_client(tmp_path, fake) as cg:
        await cg.add_client("acme")
        prepare_out_dir(out, resume=False)
        first = await run_file(cg, path, out, concurrency=2, stop=stop, on_outcome=stop_after_five)
        completed_before = {
            j.request_key for j in await cg.jobs(JobFilter(limit=100, status=JobStatus.COMPLETED))
        }
        calls_before = fake.calls
    assert first.failed == 1 and 5 <= first.done + first.failed < 12
    assert calls_before == first.done + first.failed

    with pytest.raises(InvalidInput, match="--resume"):
        prepare_out_dir(out, resume=False)

    fake2 = FakeLLM()
    async with make_client(tmp_path, fake2) as cg:
        prepare_out_dir(out, resume=True)
        second = await run_file(cg, path, out, resume=True)
        jobs = await cg.jobs(JobFilter(limit=100))
    assert fake2.calls == 12 - len(completed_before)  # only rows not completed before
    assert second.done == 12 and second.skipped == len(completed_before)
    assert not [h for h in fake2.history if any(k in h[1] for k in ())]
    latest = {}
    for j in sorted(jobs, key=lambda j: j.created_at):
        latest[j.request_key] = j
    assert len(latest) == 12 and all(j.status is JobStatus.COMPLETED for j in latest.values())
    assert_outputs_match_db(out, {j.id.hex: j for j in jobs})
    assert len(list(out.glob("*.md"))) == 12


class _FirstFastThenStuck(FakeLLM):
    """The first call answers at once; later ones hang until cancelled."""

    async def complete(self, prompt: str, *, model: str, params: object = None) -> Completion:
        if self.calls:
            await asyncio.sleep(30)
        return await super().complete(prompt, model=model)


async def test_a_crash_while_a_claim_is_answered_leaves_no_job_held(tmp_path: Path) -> None:
    """The claim is made in the database but its answer is still on the way when the batch
    is cancelled: the job must not stay ``in_progress`` (it is handed back)."""
    path = write_csv(tmp_path / "in.csv", good_rows(4))
    out = tmp_path / "out"

    class Crash(Exception):
        pass

    def crash(outcome: object, summary: object) -> None:
        raise Crash

    async with make_client(tmp_path, FakeLLM()) as cg:
        await cg.add_client("acme")
        original = cg.storage.claim_jobs
        claims = 0

        async def slow_answer(*args: object, **kw: object) -> object:
            nonlocal claims
            got = await original(*args, **kw)  # type: ignore[arg-type]
            claims += 1
            if claims >= 2:
                await asyncio.sleep(0.3)  # made, not yet answered: the crash comes now
            return got

        cg.storage.claim_jobs = slow_answer  # type: ignore[method-assign]
        prepare_out_dir(out, resume=False)
        with pytest.raises(Crash):
            await run_file(cg, path, out, concurrency=1, on_outcome=crash)
        jobs = await cg.jobs(JobFilter(limit=100))
    assert claims >= 2
    assert [j.status for j in jobs if j.status is JobStatus.IN_PROGRESS] == []
    assert sum(j.status is JobStatus.COMPLETED for j in jobs) == 1


async def test_crash_mid_run_hands_running_jobs_back_for_resume(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", good_rows(6))
    out = tmp_path / "out"
    slow = _FirstFastThenStuck()

    class Crash(Exception):
        pass

    def crash(outcome: object, summary: object) -> None:
        raise Crash

    async with make_client(tmp_path, slow) as cg:
        await cg.add_client("acme")
        prepare_out_dir(out, resume=False)
        with pytest.raises(Crash):
            await run_file(cg, path, out, concurrency=3, on_outcome=crash)
        jobs = await cg.jobs(JobFilter(limit=100))
    # Nothing is left held: the stuck calls were stopped and their jobs released (pending).
    assert all(j.status in (JobStatus.COMPLETED, JobStatus.PENDING) for j in jobs), [
        (j.status, j.error) for j in jobs
    ]
    assert sum(j.status is JobStatus.COMPLETED for j in jobs) == 1
    assert sum(j.status is JobStatus.PENDING for j in jobs) >= 1
    fake = FakeLLM()
    async with make_client(tmp_path, fake) as cg:
        summary = await run_file(cg, path, out, resume=True)
        after = await cg.jobs(JobFilter(limit=100))
    done_before = sum(j.status is JobStatus.COMPLETED for j in jobs)
    assert summary.done == 6 and fake.calls == 6 - done_before
    # the released jobs were taken up again, not duplicated
    assert len(after) == 6 and {j.id for j in jobs} <= {j.id for j in after}


class _PeakCounter(FakeLLM):
    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.peak = 0

    async def complete(self, prompt: str, *, model: str, params: object = None) -> Completion:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.05)  # long enough for the producer to claim the next jobs
        self.running -= 1
        return await super().complete(prompt, model=model)


async def test_concurrency_bounds_calls_in_flight_and_strategy_loads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contentgen.instructions import setup as setup_module

    loads: list[object] = []
    real = setup_module.resolve_setup

    async def counting(storage: object, client_id: object) -> object:
        loads.append(client_id)
        return await real(storage, client_id)  # type: ignore[arg-type]

    monkeypatch.setattr("contentgen.instructions.builder.resolve_setup", counting)
    path = write_csv(tmp_path / "in.csv", good_rows(20))
    llm = _PeakCounter()
    async with make_client(tmp_path, llm) as cg:
        await cg.add_client("acme")
        prepare_out_dir(tmp_path / "out", resume=False)
        summary = await run_file(cg, path, tmp_path / "out", concurrency=4)
    assert summary.done == 20 and llm.peak == 4
    assert len(loads) == 1  # one client, one strategy load for the whole batch
