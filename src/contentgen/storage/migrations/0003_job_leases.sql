-- Leases: who runs a job, under which fencing token, until when. They live beside `jobs` so
-- that heartbeats never rewrite a `jobs` row. `jobs.seq` is the explicit creation order
-- (newest-first listing, cursor pagination, oldest-first claiming).

ALTER TABLE jobs ADD COLUMN seq INTEGER;
UPDATE jobs SET seq = (
    SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, rowid) AS n FROM jobs) AS o
    WHERE o.id = jobs.id
);
CREATE UNIQUE INDEX jobs_seq ON jobs (seq);
CREATE INDEX jobs_status_seq ON jobs (status, seq);
CREATE INDEX jobs_client_seq ON jobs (client_id, seq);
CREATE INDEX jobs_request_key_seq ON jobs (request_key, seq);

-- One row per job ever claimed. `token` only grows (fencing); `attempt` counts claims (a
-- released claim is given back); `attempt_base` is `attempt` when the job was last retried,
-- so `attempt - attempt_base` is what counts against max_attempts.
CREATE TABLE job_leases (
    job_id        TEXT PRIMARY KEY REFERENCES jobs (id),
    holder        TEXT NOT NULL,
    token         INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    attempt_base  INTEGER NOT NULL DEFAULT 0,
    expires_at    TEXT NOT NULL,
    renewed_at    TEXT NOT NULL
);
CREATE INDEX job_leases_expires ON job_leases (expires_at);

-- The history of every claim: kept across retries.
CREATE TABLE job_attempts (
    job_id      TEXT NOT NULL REFERENCES jobs (id),
    token       INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    holder      TEXT NOT NULL,
    claimed_at  TEXT NOT NULL,
    ended_at    TEXT,
    outcome     TEXT,
    error       TEXT,
    PRIMARY KEY (job_id, token)
);

-- Jobs left in_progress by a version without leases have no owner: an expired lease makes
-- the next claim take them.
INSERT INTO job_leases (job_id, holder, token, attempt, attempt_base, expires_at, renewed_at)
SELECT id, 'unknown (before leases)', 0, 0, 0, '', updated_at FROM jobs
WHERE status = 'in_progress';

-- superseded by the seq indexes above
DROP INDEX jobs_client_created;
DROP INDEX jobs_created;
DROP INDEX jobs_request_key;
