-- Initial schema. Kept close to portable SQL so the PostgreSQL backend can share it:
-- ids are UUID text, timestamps ISO-8601 UTC text, JSON documents text.

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- casefolded name, computed by the application: uniqueness that matches Python's
    -- case-insensitive comparison on every backend (SQLite's lower() is ASCII-only)
    name_key    TEXT NOT NULL UNIQUE,
    parent_id   TEXT REFERENCES clients (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX clients_parent_id ON clients (parent_id);

CREATE TABLE strategies (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id),
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TEXT NOT NULL,
    UNIQUE (client_id, version)
);

CREATE TABLE strategy_history (
    id           TEXT PRIMARY KEY,
    strategy_id  TEXT NOT NULL REFERENCES strategies (id),
    client_id    TEXT NOT NULL REFERENCES clients (id),
    version      INTEGER NOT NULL,
    action       TEXT NOT NULL,
    changes      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX strategy_history_client ON strategy_history (client_id, created_at);

CREATE TABLE seo_rules (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id),
    name        TEXT NOT NULL,
    rule        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (client_id, name)
);

CREATE TABLE content_preferences (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (client_id, key)
);

CREATE TABLE prompt_templates (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id),
    content_type  TEXT NOT NULL,
    body          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT NOT NULL,
    UNIQUE (client_id, content_type, version)
);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients (id),
    status            TEXT NOT NULL,
    params            TEXT NOT NULL,
    result            TEXT,
    error             TEXT,
    strategy_version  INTEGER,
    template_version  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX jobs_client_created ON jobs (client_id, created_at);
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_strategy_version ON jobs (strategy_version);
CREATE INDEX jobs_created ON jobs (created_at);

-- No foreign key on client_id: a prompt job that failed because its client does not exist
-- is still recorded so that its status can be read.
CREATE TABLE prompt_jobs (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      TEXT NOT NULL,
    prompt      TEXT,
    metadata    TEXT,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX prompt_jobs_client ON prompt_jobs (client_id);

CREATE TABLE llm_usage (
    id             TEXT PRIMARY KEY,
    job_id         TEXT NOT NULL REFERENCES jobs (id),
    client_id      TEXT NOT NULL REFERENCES clients (id),
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cost           REAL NOT NULL,
    latency_ms     INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX llm_usage_job ON llm_usage (job_id);
CREATE INDEX llm_usage_client_created ON llm_usage (client_id, created_at);
