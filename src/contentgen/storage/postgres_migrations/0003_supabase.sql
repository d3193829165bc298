-- Supabase: statements that only apply where Supabase's roles and realtime publication exist.
-- On plain PostgreSQL this whole migration does nothing.
DO $$
DECLARE
    t text;
BEGIN
    -- Realtime: subscribers to the jobs table see its changes. Adding a table twice to a
    -- publication is an error, so look first.
    IF EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime')
       AND NOT EXISTS (SELECT FROM pg_publication_tables WHERE pubname = 'supabase_realtime'
                       AND schemaname = current_schema() AND tablename = 'jobs') THEN
        EXECUTE 'ALTER PUBLICATION supabase_realtime ADD TABLE jobs';
    END IF;

    -- Supabase: its API roles (cluster-wide) and its auth schema (in this database)
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated')
       AND EXISTS (SELECT FROM pg_namespace WHERE nspname = 'auth') THEN
        -- Supabase serves every table of the public schema to anon and authenticated keys.
        -- Row-level security with no policy shuts those keys out (service_role bypasses it);
        -- docs/scaling.md shows a policy that lets signed-in users read their clients' jobs.
        FOREACH t IN ARRAY ARRAY['clients', 'strategies', 'strategy_history', 'seo_rules',
                                 'content_preferences', 'prompt_templates', 'jobs',
                                 'job_leases', 'job_attempts', 'prompt_jobs', 'llm_usage',
                                 'contentgen_migrations'] LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        END LOOP;
        EXECUTE 'REVOKE EXECUTE ON FUNCTION '
            'contentgen_claim_jobs(text, integer, double precision, integer, uuid), '
            'contentgen_heartbeat(uuid, bigint, double precision), '
            'contentgen_finish_job(uuid, bigint, text, jsonb, text, jsonb, integer, text), '
            'contentgen_release_job(uuid, bigint), contentgen_cancel_job(uuid), '
            'contentgen_retry_job(uuid), contentgen_end_attempt(uuid, text, text, timestamptz), '
            'contentgen_holds(uuid, bigint) FROM anon, authenticated';
    END IF;

    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION '
            'contentgen_claim_jobs(text, integer, double precision, integer, uuid), '
            'contentgen_heartbeat(uuid, bigint, double precision), '
            'contentgen_finish_job(uuid, bigint, text, jsonb, text, jsonb, integer, text), '
            'contentgen_release_job(uuid, bigint), contentgen_cancel_job(uuid), '
            'contentgen_retry_job(uuid), contentgen_end_attempt(uuid, text, text, timestamptz), '
            'contentgen_holds(uuid, bigint) TO service_role';
    END IF;
END $$;
