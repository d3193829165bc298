-- Budgets: each client's own monthly limit and the reservations that hold money (integer
-- nano-dollars) for the paid calls of running jobs until their usage rows replace them; the
-- usage report. The rules are those of the SQLite backend (migrations/0007_budgets.sql,
-- storage/_sqlite_budgets.py). Usage rows already keep cached/reasoning tokens, finish_reason,
-- error and exact money (llm_usage in 0001_initial.sql).

CREATE TABLE budgets (
    client_id    uuid PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    limit_nanos  bigint NOT NULL CHECK (limit_nanos >= 0),
    updated_at   timestamptz NOT NULL
);

-- A reservation counts while its job is pending or in progress; contentgen_finish_job deletes
-- the job's reservations in the transaction that inserts its usage rows.
CREATE TABLE budget_reservations (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id     uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    amount_nanos  bigint NOT NULL CHECK (amount_nanos >= 0),
    created_at    timestamptz NOT NULL
);
CREATE INDEX budget_reservations_client ON budget_reservations (client_id);
CREATE INDEX budget_reservations_job ON budget_reservations (job_id);
CREATE INDEX jobs_updated ON jobs (updated_at);

-- A client's spending in [p_since, p_until) (priced usage rows; unpriced ones counted) and
-- what its pending/in-progress jobs hold, read in one statement (one snapshot).
CREATE FUNCTION contentgen_budget_state(p_client_id uuid, p_since timestamptz,
                                        p_until timestamptz)
RETURNS TABLE (spent_nanos numeric, reserved_nanos numeric, unpriced_calls bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(u.cost_nanos), 0),
           (SELECT coalesce(sum(r.amount_nanos), 0) FROM budget_reservations r
            JOIN jobs j ON j.id = r.job_id
            WHERE r.client_id = p_client_id AND j.status IN ('pending', 'in_progress')),
           count(*) - count(u.cost_nanos)
    FROM llm_usage u
    WHERE u.client_id = p_client_id AND u.created_at >= p_since AND u.created_at < p_until
$$;

-- In one transaction: hold p_amount_nanos for a call of p_job_id when
-- spent + reserved + amount <= p_limit_nanos, else refuse (reservation_id NULL); the state
-- returned is the one seen before. Reservations of one client are serialized by a
-- transaction-level advisory lock on the client (namespace 1667719797 = 'cgbu'), taken before
-- anything is read: under READ COMMITTED (PostgreSQL's and Supabase's default) every statement
-- after it sees what the previous holder of the lock committed, so any number of machines
-- reserving at once never hold more than the limit.
CREATE FUNCTION contentgen_reserve_budget(
    p_id uuid, p_client_id uuid, p_job_id uuid, p_amount_nanos bigint, p_limit_nanos bigint,
    p_since timestamptz, p_until timestamptz
) RETURNS TABLE (reservation_id uuid, spent_nanos numeric, reserved_nanos numeric,
                 unpriced_calls bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_state record;
BEGIN
    IF NOT EXISTS (SELECT FROM jobs j WHERE j.id = p_job_id) THEN
        RAISE EXCEPTION 'job % not found', p_job_id USING ERRCODE = '23503';
    END IF;
    PERFORM pg_advisory_xact_lock(
        1667719797, ('x' || left(replace(p_client_id::text, '-', ''), 8))::bit(32)::integer);
    -- a retry of a reservation that was made (its answer lost with the connection) finds it
    IF EXISTS (SELECT FROM budget_reservations r WHERE r.id = p_id) THEN
        SELECT * INTO v_state FROM contentgen_budget_state(p_client_id, p_since, p_until);
        RETURN QUERY SELECT p_id, v_state.spent_nanos, v_state.reserved_nanos,
                            v_state.unpriced_calls;
        RETURN;
    END IF;
    -- holds of jobs that ended without finishing (cancelled, lost) are dropped
    DELETE FROM budget_reservations r USING jobs j
    WHERE r.client_id = p_client_id AND j.id = r.job_id
      AND j.status NOT IN ('pending', 'in_progress');
    SELECT * INTO v_state FROM contentgen_budget_state(p_client_id, p_since, p_until);
    spent_nanos := v_state.spent_nanos;
    reserved_nanos := v_state.reserved_nanos;
    unpriced_calls := v_state.unpriced_calls;
    reservation_id := NULL;
    IF v_state.spent_nanos + v_state.reserved_nanos + p_amount_nanos <= p_limit_nanos THEN
        INSERT INTO budget_reservations (id, client_id, job_id, amount_nanos, created_at)
        VALUES (p_id, p_client_id, p_job_id, p_amount_nanos, clock_timestamp());
        reservation_id := p_id;
    END IF;
    RETURN NEXT;
END $$;

-- Set a hold to what the call really cost (0 or less deletes it); false when it is gone.
CREATE FUNCTION contentgen_settle_reservation(p_id uuid, p_amount_nanos bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF p_amount_nanos <= 0 THEN
        DELETE FROM budget_reservations WHERE id = p_id;
    ELSE
        UPDATE budget_reservations SET amount_nanos = p_amount_nanos WHERE id = p_id;
    END IF;
    RETURN FOUND;
END $$;

-- Set (p_limit_nanos) or remove (NULL) a client's own budget; 23503 for an unknown client.
CREATE FUNCTION contentgen_set_budget(p_client_id uuid, p_limit_nanos bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % not found', p_client_id USING ERRCODE = '23503';
    END IF;
    IF p_limit_nanos IS NULL THEN
        DELETE FROM budgets WHERE client_id = p_client_id;
    ELSE
        INSERT INTO budgets (client_id, limit_nanos, updated_at)
        VALUES (p_client_id, p_limit_nanos, clock_timestamp())
        ON CONFLICT (client_id) DO UPDATE
            SET limit_nanos = excluded.limit_nanos, updated_at = excluded.updated_at;
    END IF;
END $$;

-- The usage report: usage rows (by created_at) and jobs finished (completed or failed, by
-- updated_at) added up per p_by ('client' | 'model' | 'day', a UTC date) for p_client_ids
-- (NULL: all) in [p_since, p_until), plus the total (is_total, key ''), in one snapshot.
-- retries: rows that follow a failed row of the same job attempt. A job counts under the
-- model of its last call, or '(no call)' (contentgen.models.NO_CALL) when it made none.
CREATE FUNCTION contentgen_usage_report(
    p_by text, p_client_ids uuid[] DEFAULT NULL, p_since timestamptz DEFAULT NULL,
    p_until timestamptz DEFAULT NULL
) RETURNS TABLE (
    is_total boolean, key text, calls bigint, failed_calls bigint, retries bigint,
    input_tokens bigint, output_tokens bigint, cached_tokens bigint, reasoning_tokens bigint,
    cost_nanos numeric, unpriced_calls bigint, pieces bigint, failures bigint
)
LANGUAGE sql STABLE AS $$
    WITH runs AS (
        SELECT u.*, lag(u.error) OVER (PARTITION BY u.job_id, u.attempt ORDER BY u.seq)
                    AS prev_error
        FROM llm_usage u
        WHERE p_client_ids IS NULL OR u.client_id = ANY (p_client_ids)
    ), keyed_calls AS (
        SELECT r.*, CASE p_by WHEN 'client' THEN r.client_id::text WHEN 'model' THEN r.model
                    WHEN 'day' THEN to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                    END AS k
        FROM runs r
        WHERE (p_since IS NULL OR r.created_at >= p_since)
          AND (p_until IS NULL OR r.created_at < p_until)
    ), call_lines AS (
        SELECT grouping(k) = 1 AS is_total, coalesce(k, '') AS key, count(*) AS calls,
               count(error) AS failed_calls, count(prev_error) AS retries,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               sum(cached_tokens) AS cached_tokens, sum(reasoning_tokens) AS reasoning_tokens,
               sum(cost_nanos) AS cost_nanos, count(*) - count(cost_nanos) AS unpriced_calls
        FROM keyed_calls GROUP BY GROUPING SETS ((k), ())
    ), keyed_jobs AS (
        SELECT j.status, CASE p_by WHEN 'client' THEN j.client_id::text
                   WHEN 'model' THEN coalesce((SELECT u.model FROM llm_usage u
                                               WHERE u.job_id = j.id
                                               ORDER BY u.seq DESC LIMIT 1), '(no call)')
                   WHEN 'day' THEN to_char(j.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                   END AS k
        FROM jobs j
        WHERE j.status IN ('completed', 'failed')
          AND (p_client_ids IS NULL OR j.client_id = ANY (p_client_ids))
          AND (p_since IS NULL OR j.updated_at >= p_since)
          AND (p_until IS NULL OR j.updated_at < p_until)
    ), job_lines AS (
        SELECT grouping(k) = 1 AS is_total, coalesce(k, '') AS key,
               count(*) FILTER (WHERE status = 'completed') AS pieces,
               count(*) FILTER (WHERE status = 'failed') AS failures
        FROM keyed_jobs GROUP BY GROUPING SETS ((k), ())
    )
    SELECT coalesce(c.is_total, f.is_total), coalesce(c.key, f.key), coalesce(c.calls, 0),
           coalesce(c.failed_calls, 0), coalesce(c.retries, 0), coalesce(c.input_tokens, 0),
           coalesce(c.output_tokens, 0), coalesce(c.cached_tokens, 0),
           coalesce(c.reasoning_tokens, 0), c.cost_nanos, coalesce(c.unpriced_calls, 0),
           coalesce(f.pieces, 0), coalesce(f.failures, 0)
    FROM call_lines c FULL JOIN job_lines f ON f.is_total = c.is_total AND f.key = c.key
$$;

-- contentgen_finish_job of 0002_job_queue.sql, now also deleting the job's reservations in the
-- transaction that stores its usage rows (they replace what the reservations held).
CREATE OR REPLACE FUNCTION contentgen_finish_job(
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
    DELETE FROM budget_reservations WHERE job_id = p_job_id;
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

-- Only the owner (the role that ran the migrations) and, on Supabase, service_role run these
-- (CREATE OR REPLACE kept contentgen_finish_job's grants).
REVOKE EXECUTE ON FUNCTION
    contentgen_budget_state(uuid, timestamptz, timestamptz),
    contentgen_reserve_budget(uuid, uuid, uuid, bigint, bigint, timestamptz, timestamptz),
    contentgen_settle_reservation(uuid, bigint),
    contentgen_set_budget(uuid, bigint),
    contentgen_usage_report(text, uuid[], timestamptz, timestamptz)
FROM PUBLIC;

DO $$
DECLARE
    functions text := 'contentgen_budget_state(uuid, timestamptz, timestamptz), '
        'contentgen_reserve_budget(uuid, uuid, uuid, bigint, bigint, timestamptz, '
        'timestamptz), contentgen_settle_reservation(uuid, bigint), '
        'contentgen_set_budget(uuid, bigint), '
        'contentgen_usage_report(text, uuid[], timestamptz, timestamptz)';
    t text;
BEGIN
    -- Supabase: its API roles (cluster-wide) and its auth schema (in this database)
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated')
       AND EXISTS (SELECT FROM pg_namespace WHERE nspname = 'auth') THEN
        -- row-level security with no policy: anon and authenticated keys see nothing
        FOREACH t IN ARRAY ARRAY['budgets', 'budget_reservations'] LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        END LOOP;
        EXECUTE 'REVOKE EXECUTE ON FUNCTION ' || functions || ' FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION ' || functions || ' TO service_role';
    END IF;
END $$;
