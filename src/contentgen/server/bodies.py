"""Response bodies built from library objects (plain dicts: no second validation pass)."""

from __future__ import annotations

from typing import Any

from contentgen.models import Job, JobStatus, PromptJob


def status_body(job: Job) -> dict[str, Any]:
    """The reference's status body (``Job.status_view``) plus ``params``."""
    body = job.status_view()
    body["params"] = job.params.model_dump(mode="json")
    return body


def prompt_body(job: PromptJob) -> dict[str, Any]:
    """``{prompt, metadata}`` when completed, ``{status, error?}`` otherwise (the reference),
    each with the job's id, status, request and times."""
    body: dict[str, Any] = {}
    if job.status is JobStatus.COMPLETED and job.prompt is not None:
        body["prompt"] = job.prompt
        if job.metadata is not None:
            body["metadata"] = job.metadata.model_dump(mode="json")
    body["status"] = job.status.value
    if job.error is not None:
        body["error"] = job.error
    body.update(
        job_id=str(job.id),
        params=job.params.model_dump(mode="json"),
        created_at=job.created_at.isoformat(),
        updated_at=job.updated_at.isoformat(),
    )
    return body
