-- Batch rows are identified by a hash of their normalised request, so a resumed batch finds
-- the job an earlier run made for the same row.
ALTER TABLE jobs ADD COLUMN request_key TEXT;
CREATE INDEX jobs_request_key ON jobs (request_key, created_at);
