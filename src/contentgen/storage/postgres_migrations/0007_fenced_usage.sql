-- A runner fenced out of its job (cancelled by a user, taken over after its lease expired)
-- still paid for the calls it made: it stores their usage rows here, whatever became of the
-- job. Rows already stored (by id) are skipped, so a repeated write stores nothing twice; the
-- job, its lease and its budget holds are not touched. Returns the rows stored, or -1 when the
-- job does not exist or belongs to another client than the rows (the caller says which).
CREATE FUNCTION contentgen_store_fenced_usage(p_job_id uuid, p_client_id uuid, p_usage jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_stored integer;
BEGIN
    PERFORM FROM jobs WHERE id = p_job_id AND client_id = p_client_id;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    INSERT INTO llm_usage (id, job_id, client_id, provider, model, input_tokens,
                           output_tokens, cached_tokens, reasoning_tokens, cost_nanos,
                           latency_ms, finish_reason, error, attempt, created_at)
    SELECT r.id, p_job_id, p_client_id, r.provider, r.model, r.input_tokens, r.output_tokens,
           r.cached_tokens, r.reasoning_tokens, r.cost_nanos, r.latency_ms, r.finish_reason,
           r.error, r.attempt, r.created_at
    FROM jsonb_array_elements(p_usage) WITH ORDINALITY AS e (doc, n),
         jsonb_populate_record(NULL::llm_usage, e.doc) AS r
    ORDER BY e.n
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS v_stored = ROW_COUNT;
    RETURN v_stored;
END $$;

REVOKE EXECUTE ON FUNCTION contentgen_store_fenced_usage(uuid, uuid, jsonb) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        EXECUTE 'REVOKE EXECUTE ON FUNCTION contentgen_store_fenced_usage(uuid, uuid, jsonb) '
            'FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION contentgen_store_fenced_usage(uuid, uuid, jsonb) '
            'TO service_role';
    END IF;
END $$;
