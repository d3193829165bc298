"""``Lease`` and ``ClaimedJob`` as PLAN.md's "Storage" section defines them.

Provisional home until the storage branch's ``storage/base.py`` (which owns these names) is
merged; then this module re-exports from there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from contentgen.models import Job


@dataclass(frozen=True)
class Lease:
    job_id: uuid.UUID
    holder: str  # "host:pid:random" of the claimer
    token: int  # fencing token, +1 at every claim of the job
    attempt: int  # 1 at first claim, +1 per claim (expired-lease reclaims included)
    expires_at: datetime


@dataclass(frozen=True)
class ClaimedJob:
    job: Job  # status in_progress
    lease: Lease
