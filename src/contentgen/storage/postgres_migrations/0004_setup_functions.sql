-- Client setup on PostgreSQL. Version numbering, activation and history entries are decided
-- above the backends (contentgen.storage.setup_rules); here are the atomic primitives they
-- use, as SQL functions so that PostgREST clients get the same transactions, and the setup
-- revision, moved by triggers so that every writer moves it.

-- Every change of a client's setup (strategies, rules, preferences, templates, its name)
-- gives the client the next database-wide revision, in the same transaction.
CREATE FUNCTION contentgen_bump_setup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clients SET setup_revision = nextval('contentgen_setup_revision')
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.client_id ELSE NEW.client_id END;
    RETURN NULL;
END $$;

CREATE TRIGGER strategies_setup AFTER INSERT OR UPDATE OR DELETE ON strategies
    FOR EACH ROW EXECUTE FUNCTION contentgen_bump_setup();
CREATE TRIGGER seo_rules_setup AFTER INSERT OR UPDATE OR DELETE ON seo_rules
    FOR EACH ROW EXECUTE FUNCTION contentgen_bump_setup();
CREATE TRIGGER content_preferences_setup AFTER INSERT OR UPDATE OR DELETE ON content_preferences
    FOR EACH ROW EXECUTE FUNCTION contentgen_bump_setup();
CREATE TRIGGER prompt_templates_setup AFTER INSERT OR UPDATE OR DELETE ON prompt_templates
    FOR EACH ROW EXECUTE FUNCTION contentgen_bump_setup();

CREATE FUNCTION contentgen_bump_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.setup_revision := nextval('contentgen_setup_revision');  -- templates may use the name
    RETURN NEW;
END $$;

CREATE TRIGGER clients_renamed BEFORE UPDATE OF name ON clients
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION contentgen_bump_renamed();

-- The largest setup revision along a client's chain (0 for an unknown client).
CREATE FUNCTION contentgen_setup_revision(p_client_id uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain (id, parent_id, revision, depth) AS (
        SELECT c.id, c.parent_id, c.setup_revision, 0 FROM clients c WHERE c.id = p_client_id
        UNION ALL
        SELECT c.id, c.parent_id, c.setup_revision, chain.depth + 1
        FROM clients c JOIN chain ON c.id = chain.parent_id WHERE chain.depth < 64
    )
    SELECT coalesce(max(revision), 0) FROM chain
$$;

-- Store a strategy version with its history entry; an active one becomes the only active one.
-- A taken version is a unique violation (another writer was first: take the next number).
CREATE FUNCTION contentgen_insert_strategy(
    p_id uuid, p_client_id uuid, p_name text, p_config jsonb, p_version integer,
    p_active boolean, p_created_at timestamptz,
    p_history_id uuid, p_action text, p_changes jsonb, p_history_at timestamptz
) RETURNS SETOF strategies
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % not found', p_client_id USING ERRCODE = '23503';
    END IF;
    IF p_active THEN
        UPDATE strategies SET active = false WHERE client_id = p_client_id AND active;
    END IF;
    RETURN QUERY
    INSERT INTO strategies (id, client_id, name, config, version, active, created_at)
    VALUES (p_id, p_client_id, p_name, p_config, p_version, p_active, p_created_at)
    RETURNING *;
    INSERT INTO strategy_history (id, strategy_id, client_id, version, action, changes,
                                  created_at)
    VALUES (p_history_id, p_id, p_client_id, p_version, p_action, p_changes, p_history_at);
END $$;

-- Make a version the only active one, with its history entry. No row = no such version.
CREATE FUNCTION contentgen_set_active_strategy(
    p_client_id uuid, p_version integer,
    p_history_id uuid, p_strategy_id uuid, p_action text, p_changes jsonb,
    p_history_at timestamptz
) RETURNS SETOF strategies
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR UPDATE;
    SELECT s.id INTO v_id FROM strategies s
    WHERE s.client_id = p_client_id AND s.version = p_version;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    IF v_id IS DISTINCT FROM p_strategy_id THEN
        RAISE EXCEPTION 'history entry is about strategy %, not %', p_strategy_id, v_id
            USING ERRCODE = '22023';
    END IF;
    UPDATE strategies SET active = false
    WHERE client_id = p_client_id AND active AND version <> p_version;
    RETURN QUERY
    UPDATE strategies SET active = true WHERE id = v_id RETURNING *;
    INSERT INTO strategy_history (id, strategy_id, client_id, version, action, changes,
                                  created_at)
    VALUES (p_history_id, v_id, p_client_id, p_version, p_action, p_changes, p_history_at);
END $$;

-- Store a template version; an active one becomes the only active one of its content type.
CREATE FUNCTION contentgen_insert_template(
    p_id uuid, p_client_id uuid, p_content_type text, p_body text, p_version integer,
    p_active boolean, p_created_at timestamptz
) RETURNS SETOF prompt_templates
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % not found', p_client_id USING ERRCODE = '23503';
    END IF;
    IF p_active THEN
        UPDATE prompt_templates SET active = false
        WHERE client_id = p_client_id AND content_type = p_content_type AND active;
    END IF;
    RETURN QUERY
    INSERT INTO prompt_templates (id, client_id, content_type, body, version, active, created_at)
    VALUES (p_id, p_client_id, p_content_type, p_body, p_version, p_active, p_created_at)
    RETURNING *;
END $$;

REVOKE EXECUTE ON FUNCTION
    contentgen_insert_strategy(uuid, uuid, text, jsonb, integer, boolean, timestamptz, uuid,
                               text, jsonb, timestamptz),
    contentgen_set_active_strategy(uuid, integer, uuid, uuid, text, jsonb, timestamptz),
    contentgen_insert_template(uuid, uuid, text, text, integer, boolean, timestamptz),
    contentgen_setup_revision(uuid)
FROM PUBLIC;

DO $$
DECLARE
    functions text := 'contentgen_insert_strategy(uuid, uuid, text, jsonb, integer, boolean, '
        'timestamptz, uuid, text, jsonb, timestamptz), '
        'contentgen_set_active_strategy(uuid, integer, uuid, uuid, text, jsonb, timestamptz), '
        'contentgen_insert_template(uuid, uuid, text, text, integer, boolean, timestamptz), '
        'contentgen_setup_revision(uuid)';
BEGIN
    -- Supabase: its API roles (cluster-wide) and its auth schema (in this database)
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated')
       AND EXISTS (SELECT FROM pg_namespace WHERE nspname = 'auth') THEN
        EXECUTE 'REVOKE EXECUTE ON FUNCTION ' || functions || ' FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION ' || functions || ' TO service_role';
        EXECUTE 'GRANT USAGE ON SEQUENCE contentgen_setup_revision TO service_role';
    END IF;
END $$;

-- Usage rows added up per provider and model (since <= created_at < until), money exactly.
-- One function for both backends: PostgREST has no GROUP BY of its own.
CREATE FUNCTION contentgen_usage_summary(
    p_client_id uuid DEFAULT NULL, p_since timestamptz DEFAULT NULL,
    p_until timestamptz DEFAULT NULL
) RETURNS TABLE (
    provider text, model text, calls bigint, failed_calls bigint, input_tokens bigint,
    output_tokens bigint, cached_tokens bigint, reasoning_tokens bigint, cost_nanos numeric,
    unpriced_calls bigint
)
LANGUAGE sql STABLE AS $$
    SELECT u.provider, u.model, count(*), count(u.error), sum(u.input_tokens),
           sum(u.output_tokens), sum(u.cached_tokens), sum(u.reasoning_tokens),
           sum(u.cost_nanos), count(*) - count(u.cost_nanos)
    FROM llm_usage u
    WHERE (p_client_id IS NULL OR u.client_id = p_client_id)
      AND (p_since IS NULL OR u.created_at >= p_since)
      AND (p_until IS NULL OR u.created_at < p_until)
    GROUP BY u.provider, u.model
    ORDER BY u.provider, u.model
$$;

REVOKE EXECUTE ON FUNCTION contentgen_usage_summary(uuid, timestamptz, timestamptz) FROM PUBLIC;

DO $$
BEGIN
    -- Supabase: its API roles (cluster-wide) and its auth schema (in this database)
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated')
       AND EXISTS (SELECT FROM pg_namespace WHERE nspname = 'auth') THEN
        EXECUTE 'REVOKE EXECUTE ON FUNCTION '
            'contentgen_usage_summary(uuid, timestamptz, timestamptz) FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION '
            'contentgen_usage_summary(uuid, timestamptz, timestamptz) TO service_role';
    END IF;
END $$;
