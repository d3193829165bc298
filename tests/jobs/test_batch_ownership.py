"""Batches own their jobs like any runner: identical rows each get (and keep) their own job,
a job held under a live lease is followed (never failed or re-run), an output directory is
written by one batch at a time."""

from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from contentgen.batch.lock import out_dir_lock
from contentgen.batch.runner import prepare_out_dir, run_file
from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.errors import Conflict
from contentgen.models import Job, JobFilter, JobStatus
from contentgen.production.batch import row_key
from contentgen.settings import Settings
from contentgen.storage import SqliteStorage

from .conftest import Hanging

HEADER = "topic,content_type,client,keywords,length\n"
SAME = "Solar panels for small offices,blog,acme,solar,short\n"


def make(tmp_path: Path, llm: Hanging, **settings: object) -> LocalClient:
    fields: dict[str, object] = {"home": tmp_path / "home", "model": "openai/gpt-4o-mini",
                                 "retry_wait": 0, **settings}
    return LocalClient.from_settings(Settings(**fields), llm=llm,  # type: ignore[arg-type]
                                     storage=SqliteStorage(tmp_path / "db.sqlite"),
                                     cache=MemoryCache())  # fmt: skip


def results(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def test_identical_rows_with_resume_are_each_paid_once(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + SAME * 3 + "Heat pumps in old houses,blog,acme,,short\n",
                    encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    llm = Hanging()
    async with make(tmp_path, llm) as cg:
        await cg.add_client("acme")
        prepare_out_dir(out, resume=True)
        summary = await run_file(cg, path, out, resume=True, concurrency=3)
    assert llm.calls == 4 and summary.done == 4
    rows = results(out)
    assert sorted(r["row"] for r in rows) == ["2", "3", "4", "5"]  # each row once
    assert len({r["job_id"] for r in rows}) == 4 and {r["status"] for r in rows} == {"completed"}

    again = Hanging()
    async with make(tmp_path, again) as cg:
        summary = await run_file(cg, path, out, resume=True)
        jobs = await cg.jobs(JobFilter(limit=50))
    assert again.calls == 0 and summary.skipped == 4  # each row found its own job
    assert sorted(r["row"] for r in results(out)) == ["2", "3", "4", "5"]
    assert len(jobs) == 4


async def test_an_interrupted_batch_of_identical_rows_resumes_without_paying_twice(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + SAME * 6, encoding="utf-8")
    out = tmp_path / "out"
    llm = Hanging()
    stop = asyncio.Event()

    def stop_after_two(outcome: object, summary: object) -> None:
        if summary.done >= 2:  # type: ignore[attr-defined]
            stop.set()

    async with make(tmp_path, llm) as cg:
        await cg.add_client("acme")
        first = await run_file(cg, path, out, concurrency=1, stop=stop, on_outcome=stop_after_two)
    assert 2 <= first.done < 6
    second_llm = Hanging()
    async with make(tmp_path, second_llm) as cg:
        second = await run_file(cg, path, out, resume=True)
    assert llm.calls + second_llm.calls == 6  # calls = rows
    assert second.done == 6 and second.skipped == first.done
    assert sorted(int(r["row"]) for r in results(out)) == [2, 3, 4, 5, 6, 7]


async def test_resume_follows_a_job_held_under_a_live_lease(tmp_path: Path) -> None:
    """Another runner holds row 2's job: the batch neither fails nor re-runs it; it waits for
    it and reports how it ended."""
    path = tmp_path / "in.csv"
    path.write_text(HEADER + SAME + "Heat pumps in old houses,blog,acme,,short\n",
                    encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    llm = Hanging()
    async with make(tmp_path, llm, lease_seconds=30) as holder, \
            make(tmp_path, llm, lease_seconds=30) as cg:  # fmt: skip
        await holder.add_client("acme")
        request = await holder.make_request("acme", topic="Solar panels for small offices",
                                            keywords=["solar"], length="short")  # fmt: skip
        job = Job(params=request, request_key=row_key(request.identity(), 0))
        job_id = (await holder.storage.create_job(job)).id  # an earlier run's row 2 job
        [claimed] = await holder.pipeline.claim(job_id=job_id)
        batch = asyncio.create_task(run_file(cg, path, out, resume=True))
        await asyncio.sleep(0.5)
        assert not batch.done()  # waiting for the held row, the other one done
        assert (await cg.status(job_id)).status is JobStatus.IN_PROGRESS
        await holder.pipeline.run_claimed(claimed)
        summary = await asyncio.wait_for(batch, 20)
    assert llm.calls == 2 and summary.done == 2  # the held job ran once, by its holder
    by_row = {r["row"]: r for r in results(out)}
    assert by_row["2"]["job_id"] == str(job_id) and by_row["2"]["status"] == "completed"


def test_an_out_dir_is_written_by_one_batch_at_a_time(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with out_dir_lock(out), pytest.raises(Conflict, match="another batch is writing"), \
            out_dir_lock(out):  # fmt: skip
        pass
    with out_dir_lock(out):  # released when the first one ended
        pass


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from contentgen.batch.lock import out_dir_lock\n"
         f"with out_dir_lock(Path({str(out)!r})):\n"
         "    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict), out_dir_lock(out):
            pass
        holder.kill()  # SIGKILL: no clean-up ran
        holder.wait(10)
        with out_dir_lock(out):
            pass
    finally:
        holder.kill()
        holder.wait(10)


async def test_run_file_refuses_an_out_dir_another_batch_holds(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + SAME, encoding="utf-8")
    out = tmp_path / "out"
    llm = Hanging()
    async with make(tmp_path, llm) as cg:
        await cg.add_client("acme")
        with out_dir_lock(out), pytest.raises(Conflict):
            await run_file(cg, path, out)
    assert llm.calls == 0 and not (out / "results.csv").exists()
