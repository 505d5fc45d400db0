-- Report rows are the highest-volume table: every index on it is paid on every ingested row, and in a
-- WITHOUT ROWID table a secondary index entry carries the whole primary key. The `(tenant_id, grant_id)` index
-- served only purges and counts of one grant's rows, which a scan of the tenant's primary-key range serves;
-- the same index is dropped from custodian-postgres (its migration 0003). What remains: the primary key
-- (uniqueness, reads in key order, the upsert's lookups) and `(tenant_id, stored_at)` for retention.
DROP INDEX report_rows_by_grant;
