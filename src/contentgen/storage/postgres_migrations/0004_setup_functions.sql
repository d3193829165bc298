-- Client setup on PostgreSQL: every change to a client's strategies, rules, preferences or
-- templates moves clients.setup_revision on (a trigger, so every writer does it), and the
-- versioned writes are SQL functions: one transaction each over PostgREST as over asyncpg.

CREATE FUNCTION contentgen_bump_setup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clients SET setup_revision = setup_revision + 1
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

-- A new strategy version (previous max + 1), made the active one, with a history entry.
-- No row = no such client.
CREATE FUNCTION contentgen_add_strategy(
    p_id uuid, p_client_id uuid, p_name text, p_config jsonb, p_changes jsonb,
    p_history_id uuid, p_created_at timestamptz
) RETURNS SETOF strategies
LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR UPDATE;  -- serializes numbering
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT coalesce(max(version), 0) + 1 INTO v_version FROM strategies
    WHERE client_id = p_client_id;
    UPDATE strategies SET active = false WHERE client_id = p_client_id AND active;
    RETURN QUERY
    INSERT INTO strategies (id, client_id, name, config, version, active, created_at)
    VALUES (p_id, p_client_id, p_name, p_config, v_version, true, p_created_at)
    RETURNING *;
    INSERT INTO strategy_history (id, strategy_id, client_id, version, action, changes,
                                  created_at)
    VALUES (p_history_id, p_id, p_client_id, v_version, 'created', p_changes, p_created_at);
END $$;

-- Make a version the active one, with a history entry. No row = no such version.
CREATE FUNCTION contentgen_activate_strategy(
    p_client_id uuid, p_version integer, p_history_id uuid
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
    UPDATE strategies SET active = false
    WHERE client_id = p_client_id AND active AND version <> p_version;
    RETURN QUERY
    UPDATE strategies SET active = true WHERE id = v_id RETURNING *;
    INSERT INTO strategy_history (id, strategy_id, client_id, version, action, changes,
                                  created_at)
    VALUES (p_history_id, v_id, p_client_id, p_version, 'activated', '[]'::jsonb,
            clock_timestamp());
END $$;

-- A new active version of a client's template for a content type. No row = no such client.
CREATE FUNCTION contentgen_add_template(
    p_id uuid, p_client_id uuid, p_content_type text, p_body text, p_created_at timestamptz
) RETURNS SETOF prompt_templates
LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    PERFORM 1 FROM clients WHERE id = p_client_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT coalesce(max(version), 0) + 1 INTO v_version FROM prompt_templates
    WHERE client_id = p_client_id AND content_type = p_content_type;
    UPDATE prompt_templates SET active = false
    WHERE client_id = p_client_id AND content_type = p_content_type AND active;
    RETURN QUERY
    INSERT INTO prompt_templates (id, client_id, content_type, body, version, active, created_at)
    VALUES (p_id, p_client_id, p_content_type, p_body, v_version, true, p_created_at)
    RETURNING *;
END $$;

REVOKE EXECUTE ON FUNCTION
    contentgen_add_strategy(uuid, uuid, text, jsonb, jsonb, uuid, timestamptz),
    contentgen_activate_strategy(uuid, integer, uuid),
    contentgen_add_template(uuid, uuid, text, text, timestamptz)
FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
        EXECUTE 'REVOKE EXECUTE ON FUNCTION '
            'contentgen_add_strategy(uuid, uuid, text, jsonb, jsonb, uuid, timestamptz), '
            'contentgen_activate_strategy(uuid, integer, uuid), '
            'contentgen_add_template(uuid, uuid, text, text, timestamptz) '
            'FROM anon, authenticated';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION '
            'contentgen_add_strategy(uuid, uuid, text, jsonb, jsonb, uuid, timestamptz), '
            'contentgen_activate_strategy(uuid, integer, uuid), '
            'contentgen_add_template(uuid, uuid, text, text, timestamptz) TO service_role';
    END IF;
END $$;
