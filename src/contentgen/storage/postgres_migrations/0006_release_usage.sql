-- A job handed back (graceful stop) keeps the calls its runner already paid for: release takes
-- the usage rows, stores them and drops the job's budget holds in its own transaction, as
-- contentgen_finish_job does. (p_usage may be omitted: callers of the two-argument form work.)
DROP FUNCTION contentgen_release_job(uuid, bigint);

CREATE FUNCTION contentgen_release_job(p_job_id uuid, p_token bigint,
                                       p_usage jsonb DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF NOT contentgen_holds(p_job_id, p_token) THEN
        RETURN false;
    END IF;
    IF p_usage IS NOT NULL AND jsonb_array_length(p_usage) > 0 THEN
        INSERT INTO llm_usage (id, job_id, client_id, provider, model, input_tokens,
                               output_tokens, cached_tokens, reasoning_tokens, cost_nanos,
                               latency_ms, finish_reason, error, attempt, created_at)
        SELECT u.id, u.job_id, u.client_id, u.provider, u.model, u.input_tokens,
               u.output_tokens, u.cached_tokens, u.reasoning_tokens, u.cost_nanos,
               u.latency_ms, u.finish_reason, u.error, u.attempt, u.created_at
        FROM jsonb_array_elements(p_usage) WITH ORDINALITY AS e (doc, n),
             jsonb_populate_record(NULL::llm_usage, e.doc) AS u
        ORDER BY e.n;
        DELETE FROM budget_reservations WHERE job_id = p_job_id;
    END IF;
    UPDATE jobs SET status = 'pending', updated_at = v_now WHERE id = p_job_id;
    UPDATE job_leases SET attempt = attempt - 1, expires_at = v_now WHERE job_id = p_job_id;
    PERFORM contentgen_end_attempt(p_job_id, 'released', NULL, v_now);
    RETURN true;
END $$;

REVOKE EXECUTE ON FUNCTION contentgen_release_job(uuid, bigint, jsonb) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        EXECUTE 'REVOKE EXECUTE ON FUNCTION contentgen_release_job(uuid, bigint, jsonb) '
            'FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION contentgen_release_job(uuid, bigint, jsonb) '
            'TO service_role';
    END IF;
END $$;
