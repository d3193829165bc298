-- The job queue, as SQL functions: one call = one transaction, whether it comes from
-- PostgresStorage (asyncpg) or SupabaseStorage (PostgREST RPC, which has no multi-statement
-- transactions). Lock order everywhere: the jobs row, then its job_leases row.

-- Live updates: every status change is a NOTIFY on channel contentgen_jobs.
CREATE FUNCTION contentgen_notify_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('contentgen_jobs', json_build_object(
        'id', NEW.id, 'client_id', NEW.client_id, 'status', NEW.status)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION contentgen_notify_job();
CREATE TRIGGER jobs_notify_status AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION contentgen_notify_job();

-- Close the running attempt of a job (there is at most one).
CREATE FUNCTION contentgen_end_attempt(p_job_id uuid, p_outcome text, p_error text,
                                       p_at timestamptz) RETURNS void
LANGUAGE sql AS $$
    UPDATE job_attempts SET outcome = p_outcome, error = p_error, ended_at = p_at
    WHERE job_id = p_job_id AND outcome IS NULL
$$;

-- Take up to p_limit jobs, oldest first: pending ones, and in_progress ones whose lease expired
-- (their worker died). Each gets a lease: fencing token + 1, attempt + 1, and a job_attempts
-- row. An expired job that already used p_max_attempts since it was created (or retried) is
-- failed instead. SKIP LOCKED: concurrent claimers never wait for each other and never take
-- the same job.
CREATE FUNCTION contentgen_claim_jobs(
    p_holder text,
    p_limit integer,
    p_lease_seconds double precision,
    p_max_attempts integer,
    p_job_id uuid DEFAULT NULL
) RETURNS TABLE (
    id uuid, client_id uuid, status text, params jsonb, result jsonb, error text,
    strategy_version integer, template_version text, request_key text,
    created_at timestamptz, updated_at timestamptz,
    lease_holder text, lease_token bigint, lease_attempt integer, lease_expires_at timestamptz
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
    v_expires timestamptz := v_now + make_interval(secs => p_lease_seconds);
    v_lost record;
    v_error text;
BEGIN
    FOR v_lost IN
        SELECT j.id, l.attempt - l.attempt_base AS used, l.holder, l.renewed_at
        FROM jobs j JOIN job_leases l ON l.job_id = j.id
        WHERE j.status = 'in_progress' AND l.expires_at <= v_now
          AND l.attempt - l.attempt_base >= p_max_attempts
          AND (p_job_id IS NULL OR j.id = p_job_id)
        FOR UPDATE OF j, l SKIP LOCKED
    LOOP
        -- the message of contentgen.storage._checks.worker_lost, word for word
        v_error := format('worker lost %s time%s; last seen %s at %s', v_lost.used,
                          CASE WHEN v_lost.used = 1 THEN '' ELSE 's' END, v_lost.holder,
                          to_char(v_lost.renewed_at AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD HH24:MI:SS') || ' UTC');
        UPDATE jobs SET status = 'failed', error = v_error, updated_at = v_now
        WHERE jobs.id = v_lost.id;
        PERFORM contentgen_end_attempt(v_lost.id, 'lost', v_error, v_now);
    END LOOP;

    RETURN QUERY
    WITH expired AS (
        SELECT j.id, j.seq FROM jobs j JOIN job_leases l ON l.job_id = j.id
        WHERE j.status = 'in_progress' AND l.expires_at <= v_now
          AND (p_job_id IS NULL OR j.id = p_job_id)
        ORDER BY j.seq LIMIT p_limit
        FOR UPDATE OF j, l SKIP LOCKED
    ), pending AS (
        SELECT j.id, j.seq FROM jobs j
        WHERE j.status = 'pending' AND (p_job_id IS NULL OR j.id = p_job_id)
        ORDER BY j.seq LIMIT p_limit
        FOR UPDATE OF j SKIP LOCKED
    ), picked AS (
        SELECT c.id FROM (SELECT * FROM expired UNION ALL SELECT * FROM pending) c
        ORDER BY c.seq LIMIT p_limit
    ), started AS (
        UPDATE jobs SET status = 'in_progress', updated_at = v_now
        FROM picked WHERE jobs.id = picked.id AND jobs.status = 'pending'
        RETURNING jobs.id
    ), ended AS (
        UPDATE job_attempts a SET outcome = 'lost', ended_at = v_now
        FROM picked WHERE a.job_id = picked.id AND a.outcome IS NULL
        RETURNING a.job_id
    ), leased AS (
        INSERT INTO job_leases AS l
            (job_id, holder, token, attempt, attempt_base, expires_at, renewed_at)
        SELECT picked.id, p_holder, 1, 1, 0, v_expires, v_now FROM picked
        ON CONFLICT (job_id) DO UPDATE SET
            holder = excluded.holder, token = l.token + 1, attempt = l.attempt + 1,
            expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
        RETURNING l.job_id, l.holder, l.token, l.attempt, l.expires_at
    ), recorded AS (
        INSERT INTO job_attempts (job_id, token, attempt, holder, claimed_at)
        SELECT leased.job_id, leased.token, leased.attempt, leased.holder, v_now FROM leased
    )
    SELECT j.id, j.client_id, 'in_progress'::text, j.params, j.result, j.error,
           j.strategy_version, j.template_version, j.request_key, j.created_at,
           CASE WHEN j.status = 'pending' THEN v_now ELSE j.updated_at END,
           leased.holder, leased.token, leased.attempt, leased.expires_at
    FROM jobs j JOIN leased ON leased.job_id = j.id
    ORDER BY j.seq;
END $$;

-- Extend a lease; no row = the lease is lost (reclaimed, or the job is no longer running).
-- Writes job_leases only, never jobs.
CREATE FUNCTION contentgen_heartbeat(p_job_id uuid, p_token bigint, p_lease_seconds double precision)
RETURNS TABLE (holder text, token bigint, attempt integer, expires_at timestamptz)
LANGUAGE sql AS $$
    UPDATE job_leases l SET
        renewed_at = clock_timestamp(),
        expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
    WHERE l.job_id = p_job_id AND l.token = p_token
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = p_job_id AND j.status = 'in_progress')
    RETURNING l.holder, l.token, l.attempt, l.expires_at
$$;

-- Lock a job and its lease (in that order, as everywhere) and tell whether p_token holds it.
CREATE FUNCTION contentgen_holds(p_job_id uuid, p_token bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
    v_token bigint;
BEGIN
    SELECT j.status INTO v_status FROM jobs j WHERE j.id = p_job_id FOR UPDATE;
    SELECT l.token INTO v_token FROM job_leases l WHERE l.job_id = p_job_id FOR UPDATE;
    RETURN v_status = 'in_progress' AND v_token = p_token;
END $$;

-- Finish a running job under its fencing token, storing its usage rows, in one transaction.
-- No row returned = fenced: the job is not running under this token, nothing was written.
CREATE FUNCTION contentgen_finish_job(
    p_job_id uuid,
    p_token bigint,
    p_status text,
    p_result jsonb,
    p_error text,
    p_usage jsonb,
    p_strategy_version integer,
    p_template_version text
) RETURNS SETOF jobs
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF p_status NOT IN ('completed', 'failed', 'cancelled') THEN
        RAISE EXCEPTION 'a job cannot finish as %', p_status USING ERRCODE = '22023';
    END IF;
    IF NOT contentgen_holds(p_job_id, p_token) THEN
        RETURN;
    END IF;
    INSERT INTO llm_usage (id, job_id, client_id, provider, model, input_tokens, output_tokens,
                           cached_tokens, reasoning_tokens, cost_nanos, latency_ms,
                           finish_reason, error, attempt, created_at)
    SELECT u.id, u.job_id, u.client_id, u.provider, u.model, u.input_tokens, u.output_tokens,
           u.cached_tokens, u.reasoning_tokens, u.cost_nanos, u.latency_ms, u.finish_reason,
           u.error, u.attempt, u.created_at
    FROM jsonb_array_elements(coalesce(p_usage, '[]'::jsonb)) WITH ORDINALITY AS e (doc, n),
         jsonb_populate_record(NULL::llm_usage, e.doc) AS u
    ORDER BY e.n;  -- seq follows the order of the rows given
    UPDATE job_leases SET expires_at = v_now WHERE job_id = p_job_id;
    PERFORM contentgen_end_attempt(p_job_id, p_status, p_error, v_now);
    RETURN QUERY
    UPDATE jobs SET
        status = p_status, result = p_result, error = p_error,
        strategy_version = coalesce(p_strategy_version, jobs.strategy_version),
        template_version = coalesce(p_template_version, jobs.template_version),
        updated_at = v_now
    WHERE jobs.id = p_job_id
    RETURNING jobs.*;
END $$;

-- Graceful stop: the job goes back to pending and this attempt does not count.
CREATE FUNCTION contentgen_release_job(p_job_id uuid, p_token bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF NOT contentgen_holds(p_job_id, p_token) THEN
        RETURN false;
    END IF;
    UPDATE jobs SET status = 'pending', updated_at = v_now WHERE id = p_job_id;
    UPDATE job_leases SET attempt = attempt - 1, expires_at = v_now WHERE job_id = p_job_id;
    PERFORM contentgen_end_attempt(p_job_id, 'released', NULL, v_now);
    RETURN true;
END $$;

-- pending|in_progress -> cancelled (a runner still holding it is fenced at finish).
-- No row = not found or already finished.
CREATE FUNCTION contentgen_cancel_job(p_job_id uuid) RETURNS SETOF jobs
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    UPDATE jobs SET status = 'cancelled', updated_at = v_now
    WHERE jobs.id = p_job_id AND jobs.status IN ('pending', 'in_progress')
    RETURNING jobs.*;
    IF FOUND THEN
        PERFORM contentgen_end_attempt(p_job_id, 'cancelled', NULL, v_now);
    END IF;
END $$;

-- failed|cancelled -> pending with a fresh attempt budget (attempts and usage rows are kept).
CREATE FUNCTION contentgen_retry_job(p_job_id uuid) RETURNS SETOF jobs
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    UPDATE jobs SET status = 'pending', result = NULL, error = NULL,
                    updated_at = clock_timestamp()
    WHERE jobs.id = p_job_id AND jobs.status IN ('failed', 'cancelled')
    RETURNING jobs.*;
    IF FOUND THEN
        UPDATE job_leases SET attempt_base = attempt WHERE job_id = p_job_id;
    END IF;
END $$;

-- Only the owner (the role that ran the migrations) and, on Supabase, service_role run these.
REVOKE EXECUTE ON FUNCTION
    contentgen_claim_jobs(text, integer, double precision, integer, uuid),
    contentgen_heartbeat(uuid, bigint, double precision),
    contentgen_finish_job(uuid, bigint, text, jsonb, text, jsonb, integer, text),
    contentgen_release_job(uuid, bigint),
    contentgen_cancel_job(uuid),
    contentgen_retry_job(uuid),
    contentgen_end_attempt(uuid, text, text, timestamptz),
    contentgen_holds(uuid, bigint)
FROM PUBLIC;
