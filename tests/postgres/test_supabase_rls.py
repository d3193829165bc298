"""The row-level security example of docs/scaling.md, applied as written to a Supabase-like
database behind a real PostgREST: a signed-in user reads exactly their clients' jobs."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from server_fixtures import SupabaseProject

DOC = Path(__file__).parents[2] / "docs" / "scaling.md"


def _rls_example() -> str:
    text = DOC.read_text()
    section = text.split("### Letting signed-in users follow their jobs", 1)[1]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


async def test_a_signed_in_user_sees_only_their_clients_jobs(supabase: SupabaseProject) -> None:
    supabase.sql("DROP TABLE IF EXISTS public.client_members CASCADE")
    supabase.sql(
        'DROP POLICY IF EXISTS "members see their clients\' jobs" ON public.jobs'
    )
    supabase.sql(_rls_example())
    alice, mine, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    supabase.sql(f"INSERT INTO auth.users (id) VALUES ('{alice}')")
    for client, name in ((mine, "mine"), (theirs, "theirs")):
        supabase.sql(
            f"INSERT INTO clients (id, name, name_key, created_at) "
            f"VALUES ('{client}', '{name}', '{name}', now())"
        )
        supabase.sql(
            "INSERT INTO jobs (id, client_id, status, params, created_at, updated_at) "
            f"VALUES (gen_random_uuid(), '{client}', 'pending', '{{}}', now(), now())"
        )
    supabase.sql(f"INSERT INTO client_members VALUES ('{alice}', '{mine}')")
    supabase.rest.reload_schema(supabase.pg, supabase.database)
    try:
        async with httpx.AsyncClient(base_url=supabase.url) as http:
            user = {"Authorization": f"Bearer {supabase.user_token(str(alice))}"}
            seen = (await http.get("/jobs?select=client_id", headers=user)).json()
            stranger = {"Authorization": f"Bearer {supabase.user_token(str(uuid.uuid4()))}"}
            unseen = (await http.get("/jobs?select=client_id", headers=stranger)).json()
            anon = {"Authorization": f"Bearer {supabase.anon_key()}"}
            nothing = (await http.get("/jobs?select=client_id", headers=anon)).json()
    finally:
        # the policy on jobs depends on client_members: CASCADE drops it too
        supabase.sql("DROP TABLE public.client_members CASCADE")
        supabase.rest.reload_schema(supabase.pg, supabase.database)
    assert seen == [{"client_id": str(mine)}]
    assert unseen == [] and nothing == []
