"""Synchronous conveniences for scripts and notebooks without an event loop.

    import contentgen
    job = contentgen.generate(topic="Solar panels for small offices", client="acme")
"""

from __future__ import annotations

import asyncio
from typing import Any

from contentgen.models import Job
from contentgen.settings import Settings


def generate(*, settings: Settings | None = None, **fields: Any) -> Job:
    """Generate one piece (submit + wait) on a client built from settings."""
    from contentgen.client.local import Client

    async def main() -> Job:
        async with Client.from_settings(settings) as cg:
            return await cg.generate(**fields)

    return asyncio.run(main())


def status(job_id: str, *, settings: Settings | None = None) -> Job:
    """A job by id (or unique id prefix)."""
    from contentgen.client.local import Client

    async def main() -> Job:
        async with Client.from_settings(settings) as cg:
            return await cg.status(job_id)

    return asyncio.run(main())
