-- Usage rows: exact money (integer nano-dollars; NULL = the price is unknown), the token
-- kinds providers report, how each call ended, which job attempt made it, and an explicit
-- order (seq).

ALTER TABLE llm_usage ADD COLUMN cost_nanos INTEGER;
UPDATE llm_usage SET cost_nanos = CAST(ROUND(cost * 1000000000) AS INTEGER);
ALTER TABLE llm_usage DROP COLUMN cost;
ALTER TABLE llm_usage ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE llm_usage ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE llm_usage ADD COLUMN finish_reason TEXT;
ALTER TABLE llm_usage ADD COLUMN error TEXT;  -- NULL: the call succeeded
ALTER TABLE llm_usage ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE llm_usage ADD COLUMN seq INTEGER;
UPDATE llm_usage SET seq = (
    SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, rowid) AS n FROM llm_usage) AS o
    WHERE o.id = llm_usage.id
);
CREATE UNIQUE INDEX llm_usage_seq ON llm_usage (seq);
CREATE INDEX llm_usage_created ON llm_usage (created_at);
