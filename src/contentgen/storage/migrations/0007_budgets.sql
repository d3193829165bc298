-- Monthly budgets per client (integer nano-dollars) and the reservations that hold money for
-- the paid calls of running jobs until their usage rows replace them.

CREATE TABLE budgets (
    client_id    TEXT PRIMARY KEY REFERENCES clients (id),
    limit_nanos  INTEGER NOT NULL CHECK (limit_nanos >= 0),
    updated_at   TEXT NOT NULL
);

CREATE TABLE budget_reservations (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id),
    job_id        TEXT NOT NULL REFERENCES jobs (id),
    amount_nanos  INTEGER NOT NULL CHECK (amount_nanos >= 0),
    created_at    TEXT NOT NULL
);
CREATE INDEX budget_reservations_client ON budget_reservations (client_id);
CREATE INDEX budget_reservations_job ON budget_reservations (job_id);
CREATE INDEX jobs_updated ON jobs (updated_at);
