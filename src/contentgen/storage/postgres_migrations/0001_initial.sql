-- contentgen on PostgreSQL (and Supabase): the logical schema of the SQLite backend in
-- PostgreSQL's own types: uuid ids, timestamptz times, jsonb documents, bigint nano-dollars.
-- Every table has an explicit `seq` (insertion order breaks ties between equal timestamps).

-- Every change of a client's setup gives it the next value of this database-wide sequence, so
-- the largest revision along a client's chain (itself, its parent, ...) grows with every change
-- anywhere in the chain: it is part of the strategy cache key.
CREATE SEQUENCE contentgen_setup_revision;

CREATE TABLE clients (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name            text NOT NULL,
    -- casefolded name, computed by the application (Python's casefold, on every backend)
    name_key        text NOT NULL UNIQUE,
    parent_id       uuid REFERENCES clients (id),
    setup_revision  bigint NOT NULL DEFAULT nextval('contentgen_setup_revision'),
    created_at      timestamptz NOT NULL
);
CREATE INDEX clients_parent_id ON clients (parent_id);

CREATE TABLE strategies (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id   uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    name        text NOT NULL,
    config      jsonb NOT NULL,
    version     integer NOT NULL,
    active      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    UNIQUE (client_id, version)
);
CREATE UNIQUE INDEX strategies_one_active ON strategies (client_id) WHERE active;

CREATE TABLE strategy_history (
    id           uuid PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    strategy_id  uuid NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    client_id    uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    version      integer NOT NULL,
    action       text NOT NULL,
    changes      jsonb NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX strategy_history_client_seq ON strategy_history (client_id, seq);

CREATE TABLE seo_rules (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id   uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    name        text NOT NULL,
    rule        text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT seo_rules_name UNIQUE (client_id, name)
);

CREATE TABLE content_preferences (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id   uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT content_preferences_key UNIQUE (client_id, key)
);

CREATE TABLE prompt_templates (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id     uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    content_type  text NOT NULL,
    body          text NOT NULL,
    version       integer NOT NULL,
    active        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    UNIQUE (client_id, content_type, version)
);
CREATE UNIQUE INDEX prompt_templates_one_active
    ON prompt_templates (client_id, content_type) WHERE active;

-- The reference's jobs table. Leases live in job_leases so that heartbeats never write a jobs
-- row: on Supabase every jobs write is a realtime event for subscribers.
CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id         uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    status            text NOT NULL
        CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
    params            jsonb NOT NULL,
    result            jsonb,
    error             text,
    strategy_version  integer,
    template_version  text,
    request_key       text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX jobs_client_seq ON jobs (client_id, seq);
CREATE INDEX jobs_pending ON jobs (seq) WHERE status = 'pending';
CREATE INDEX jobs_in_progress ON jobs (seq) WHERE status = 'in_progress';
CREATE INDEX jobs_status_seq ON jobs (status, seq);
CREATE INDEX jobs_strategy_version ON jobs (strategy_version);
CREATE INDEX jobs_request_key ON jobs (request_key, seq);

-- One row per job that was ever claimed: who holds it, until when, with which fencing token.
-- `token` only grows; `attempt` counts claims (a released claim is given back);
-- `attempt_base` is `attempt` when the job was last retried, so `attempt - attempt_base` is
-- what counts against max_attempts.
CREATE TABLE job_leases (
    job_id        uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    holder        text NOT NULL,
    token         bigint NOT NULL,
    attempt       integer NOT NULL,
    attempt_base  integer NOT NULL DEFAULT 0,
    expires_at    timestamptz NOT NULL,
    renewed_at    timestamptz NOT NULL
);
CREATE INDEX job_leases_expires ON job_leases (expires_at);

-- The history of every claim, kept across retries. outcome: NULL while running, then
-- completed | failed | cancelled | released | lost.
CREATE TABLE job_attempts (
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    token       bigint NOT NULL,
    attempt     integer NOT NULL,
    holder      text NOT NULL,
    claimed_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    outcome     text,
    error       text,
    PRIMARY KEY (job_id, token)
);
CREATE INDEX job_attempts_running ON job_attempts (job_id) WHERE outcome IS NULL;

-- No foreign key on client_id: a prompt job that failed because its client does not exist
-- is still recorded so that its status can be read.
CREATE TABLE prompt_jobs (
    id          uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id   uuid NOT NULL,
    status      text NOT NULL,
    params      jsonb NOT NULL,
    prompt      text,
    metadata    jsonb,
    error       text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX prompt_jobs_client ON prompt_jobs (client_id);

-- One row per provider call that was made (paid or not). Money is exact: integer
-- nano-dollars; NULL = the price is unknown. error NULL = the call succeeded; attempt = the job
-- attempt (lease) that made it.
CREATE TABLE llm_usage (
    id                uuid PRIMARY KEY,
    seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    job_id            uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    client_id         uuid NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    provider          text NOT NULL,
    model             text NOT NULL,
    input_tokens      integer NOT NULL,
    output_tokens     integer NOT NULL,
    cached_tokens     integer NOT NULL DEFAULT 0,
    reasoning_tokens  integer NOT NULL DEFAULT 0,
    cost_nanos        bigint,
    latency_ms        integer NOT NULL,
    finish_reason     text,
    error             text,
    attempt           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL
);
CREATE INDEX llm_usage_job ON llm_usage (job_id, seq);
CREATE INDEX llm_usage_client_created ON llm_usage (client_id, created_at);
CREATE INDEX llm_usage_created ON llm_usage (created_at);
