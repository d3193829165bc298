"""Through PgBouncer in transaction mode (as behind Supabase's port-6543 pooler): no prepared
statement cache, no LISTEN (polling instead), and everything else works, migrations included."""

from __future__ import annotations

from contentgen.models import Client, JobFilter, JobStatus
from contentgen.storage.postgres import PostgresStorage
from contentgen.storage.postgres_migrate import migrate_url
from contentgen.testing.pgbouncer_server import PgBouncerServer
from storage.factories import make_job, make_result, make_usage


async def test_the_queue_works_through_a_transaction_pooler(
    pgbouncer: PgBouncerServer, postgres_empty_url: str
) -> None:
    url = pgbouncer.url(postgres_empty_url.rsplit("/", 1)[1])
    assert await migrate_url(url, pooled=True)  # the advisory lock is transaction-scoped
    async with PostgresStorage(url, pooled=True, pool_size=4) as storage:
        assert not storage.changes.enabled
        client = await storage.add_client(Client(name="Acme"))
        for _ in range(20):
            await storage.create_job(make_job(client.id))
        claimed = await storage.claim_jobs("w", limit=20, lease_seconds=30, max_attempts=3)
        assert len(claimed) == 20
        for c in claimed:
            assert await storage.heartbeat(c.lease, 30) is not None
            usage = [make_usage(c.job)]
            done = await storage.finish_job(
                c.lease, status=JobStatus.COMPLETED, result=make_result(), usage=usage
            )
            assert done is not None
        assert await storage.wait_for_change(timeout=0.01) is False  # polls: no LISTEN here
        page = await storage.list_jobs(JobFilter(status=JobStatus.COMPLETED, limit=50))
        assert len(page.jobs) == 20
