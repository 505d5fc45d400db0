-- Row-level security (SEG-1). Every tenant table gets one policy: a row is visible to, and may be written
-- by, the application role only when its `tenant_id` equals the transaction's `custodian.tenant` setting,
-- which the store sets with `set_config('custodian.tenant', $1, true)` at the start of every transaction.
-- Without the setting `current_setting(…, true)` is NULL (or '' once set in the session), which matches no
-- row: a query that forgot the tenant sees nothing and writes nothing.
--
-- The policies apply to every role (PUBLIC) except the tables' owner and superusers: the application role
-- `custodian_app`, and also a production login role that is a member of it, so even `RESET ROLE` does not
-- lift them unless the session logged in as the owner (deploy the service with a non-owner login role that
-- is a member of `custodian_app`). The tables belong to the migrating user, so the application role cannot
-- drop or disable the policies. The owner (migrations and maintenance only) is not bound: FORCE ROW LEVEL
-- SECURITY is deliberately not set, so the narrowly-scoped SECURITY DEFINER functions below can serve the
-- few cross-tenant lookups the ports require.

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'tenants', 'contacts', 'grants', 'grant_accounts',
        'report_rows', 'campaigns', 'orders', 'order_lines', 'stock_levels', 'sync_checkpoints',
        'audit_records', 'audit_heads', 'audit_checkpoints',
        'change_requests', 'rights_requests', 'legal_holds', 'deletion_receipts'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = current_setting(''custodian.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''custodian.tenant'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO custodian_app', t);
    END LOOP;
END
$$;

-- Deletion receipts are immutable, audit records are append-only (truncated only by checkpoints).
REVOKE UPDATE ON deletion_receipts FROM custodian_app;
REVOKE UPDATE ON audit_records FROM custodian_app;

-- Global tables: no tenant, no policy.
GRANT SELECT, INSERT, UPDATE, DELETE ON people, person_credentials, sessions, api_keys, incidents, jobs
    TO custodian_app;
GRANT USAGE ON SEQUENCE job_fences TO custodian_app;
GRANT USAGE ON SCHEMA public TO custodian_app;

-- Cross-tenant lookups -------------------------------------------------------------------------------------
-- The only reads across tenants the ports require. Each is a SECURITY DEFINER function (it runs as the table
-- owner, whom the policies do not bind) that returns identifiers only, never a row's contents; the
-- application role may execute them and nothing else crosses tenants. `search_path` is pinned so a caller
-- cannot redirect the functions' table references.

-- GrantStore::locate_by_account: routes a verified platform signal (AUTH-6) to its (tenant, grant) pairs.
CREATE FUNCTION custodian_locate_by_account(p_platform TEXT, p_account_key TEXT)
RETURNS TABLE (tenant_id TEXT, grant_id TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT a.tenant_id, a.grant_id
    FROM grant_accounts a
    JOIN grants g ON g.tenant_id = a.tenant_id AND g.grant_id = a.grant_id
    WHERE a.platform = p_platform AND a.account_key = p_account_key AND g.platform = p_platform
    ORDER BY a.tenant_id, a.grant_id
$$;

-- GrantStore::locate_by_owner: as above, by the owner identity of the evidence.
CREATE FUNCTION custodian_locate_by_owner(p_platform TEXT, p_owner TEXT)
RETURNS TABLE (tenant_id TEXT, grant_id TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT g.tenant_id, g.grant_id
    FROM grants g
    WHERE g.platform = p_platform AND g.owner = p_owner
    ORDER BY g.tenant_id, g.grant_id
$$;

-- GrantStore::stale_grants: active grants validated before a bound, oldest first, for scheduling.
CREATE FUNCTION custodian_stale_grants(p_before TIMESTAMPTZ, p_limit BIGINT)
RETURNS TABLE (tenant_id TEXT, grant_id TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT g.tenant_id, g.grant_id
    FROM grants g
    WHERE g.state = 'active' AND g.validated_at < p_before
    ORDER BY g.validated_at, g.tenant_id, g.grant_id
    LIMIT p_limit
$$;

-- AuditLog::chains: the tenants that have an audit chain (for verification runs).
CREATE FUNCTION custodian_audit_chains()
RETURNS TABLE (tenant_id TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT h.tenant_id FROM audit_heads h ORDER BY h.tenant_id
$$;

-- TenantStore::tenants: the administrative listing of every tenant (callers filter by assignment, ACC-1).
CREATE FUNCTION custodian_all_tenants()
RETURNS TABLE (tenant_id TEXT, name TEXT, status TEXT, contract TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT t.tenant_id, t.name, t.status, t.contract::text FROM tenants t ORDER BY t.tenant_id
$$;

REVOKE ALL ON FUNCTION custodian_locate_by_account(TEXT, TEXT) FROM PUBLIC;
REVOKE ALL ON FUNCTION custodian_locate_by_owner(TEXT, TEXT) FROM PUBLIC;
REVOKE ALL ON FUNCTION custodian_stale_grants(TIMESTAMPTZ, BIGINT) FROM PUBLIC;
REVOKE ALL ON FUNCTION custodian_audit_chains() FROM PUBLIC;
REVOKE ALL ON FUNCTION custodian_all_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION custodian_locate_by_account(TEXT, TEXT) TO custodian_app;
GRANT EXECUTE ON FUNCTION custodian_locate_by_owner(TEXT, TEXT) TO custodian_app;
GRANT EXECUTE ON FUNCTION custodian_stale_grants(TIMESTAMPTZ, BIGINT) TO custodian_app;
GRANT EXECUTE ON FUNCTION custodian_audit_chains() TO custodian_app;
GRANT EXECUTE ON FUNCTION custodian_all_tenants() TO custodian_app;
