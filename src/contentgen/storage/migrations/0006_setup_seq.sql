-- Explicit insertion order for strategy history and SEO rules (listed in that order).

ALTER TABLE strategy_history ADD COLUMN seq INTEGER;
UPDATE strategy_history SET seq = (
    SELECT n FROM (
        SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, rowid) AS n FROM strategy_history
    ) AS o WHERE o.id = strategy_history.id
);
CREATE UNIQUE INDEX strategy_history_seq ON strategy_history (seq);
CREATE INDEX strategy_history_client_seq ON strategy_history (client_id, seq);
DROP INDEX strategy_history_client;

ALTER TABLE seo_rules ADD COLUMN seq INTEGER;
UPDATE seo_rules SET seq = (
    SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, rowid) AS n FROM seo_rules) AS o
    WHERE o.id = seo_rules.id
);
CREATE UNIQUE INDEX seo_rules_seq ON seo_rules (seq);
