-- A client's setup revision: set to (largest revision in the database) + 1 by every change
-- of the client's setup (strategy, rules, preferences, templates, name), so the largest
-- revision along a client's chain grows with every change anywhere in the chain. It is part
-- of the strategy cache key: no process can read a setup cached before a change.

ALTER TABLE clients ADD COLUMN setup_revision INTEGER NOT NULL DEFAULT 0;
UPDATE clients SET setup_revision = (
    SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, rowid) AS n FROM clients) AS o
    WHERE o.id = clients.id
);
CREATE INDEX clients_setup_revision ON clients (setup_revision);
