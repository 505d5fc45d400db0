-- Report rows are the highest-volume table: every index on it is paid on every ingested row. The
-- `(tenant_id, grant_id)` index cost 10-30 % of bulk-ingest throughput (issue 3 bench) and served only purges
-- and counts of one grant's rows, which a scan of the tenant's rows serves about as fast (measured: purging
-- 300,000 rows of one grant, in batches of 20,000, behind 300,000 rows of another grant of the same tenant
-- took 0.57 s with and without the index). What remains: the primary key `(tenant_id, natural_key)`
-- (uniqueness, reads in key order, every lookup of the upsert) and the BRIN index on `stored_at` (retention).
DROP INDEX report_rows_grant;
