-- Custodian's schema on SQLite: the same tables and columns as custodian-postgres.
--
-- Conventions:
-- - Every tenant table has `tenant_id` first in its primary key (SEG-1; the schema can be distributed by
--   tenant). Global tables (people, person_credentials, sessions, api_keys, incidents, jobs) have none.
-- - Timestamps are INTEGER Unix nanoseconds in UTC (1677-09-21 to 2262-04-11); days are TEXT `YYYY-MM-DD`.
-- - Enumerations are TEXT in the domain's lowercase names; structured values (sets, lists, state details)
--   are TEXT holding JSON written by the adapter's wire types.
-- - PII columns hold only `Sealed::to_bytes()` ciphertext plus its key version (ENC-1): contacts.details,
--   orders.buyer. No column holds an access or refresh token or any other credential (SEC-1): the only
--   login material is `person_credentials.password_phc` (an Argon2id PHC hash) and
--   `person_credentials.totp_sealed` (the TOTP seed sealed with the system key); sessions and API keys are
--   stored by the SHA-256 of their secret only.
-- - Dataset tables are WITHOUT ROWID tables clustered on their natural key.

CREATE TABLE tenants (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('active', 'offboarding', 'offboarded')),
    contract   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE contacts (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (tenant_id),
    contact_id  TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    details     BLOB    NOT NULL,
    key_version INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
) WITHOUT ROWID;

CREATE TABLE grants (
    tenant_id              TEXT    NOT NULL REFERENCES tenants (tenant_id),
    grant_id               TEXT    NOT NULL,
    platform               TEXT    NOT NULL,
    state                  TEXT    NOT NULL,
    tasks                  TEXT    NOT NULL,
    pii_enabled            INTEGER NOT NULL CHECK (pii_enabled IN (0, 1)),
    -- The evidence of the last validation: present exactly when validated_at is not null.
    owner                  TEXT,
    scopes                 TEXT,
    expires_at             INTEGER,
    data_access_expires_at INTEGER,
    validated_at           INTEGER,
    review                 TEXT    NOT NULL,
    revocation             TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, grant_id)
) WITHOUT ROWID;

CREATE INDEX grants_by_owner ON grants (platform, owner);
CREATE INDEX grants_by_validation ON grants (state, validated_at);

-- The accounts the last validation reported for a grant (AUTH-3); routes platform signals (AUTH-6).
CREATE TABLE grant_accounts (
    tenant_id   TEXT NOT NULL,
    grant_id    TEXT NOT NULL,
    platform    TEXT NOT NULL,
    account_key TEXT NOT NULL,
    PRIMARY KEY (tenant_id, grant_id, account_key),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX grant_accounts_by_account ON grant_accounts (platform, account_key);

CREATE TABLE report_rows (
    tenant_id               TEXT    NOT NULL,
    account_key             TEXT    NOT NULL,
    level                   TEXT    NOT NULL,
    object_id               TEXT    NOT NULL,
    day                     TEXT    NOT NULL,
    grant_id                TEXT    NOT NULL,
    currency                TEXT    NOT NULL,
    spend_micros            INTEGER NOT NULL,
    impressions             INTEGER NOT NULL,
    clicks                  INTEGER NOT NULL,
    conversions             INTEGER NOT NULL,
    conversion_value_micros INTEGER NOT NULL,
    stored_at               INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_key, level, object_id, day),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id)
) WITHOUT ROWID;

CREATE INDEX report_rows_by_grant ON report_rows (tenant_id, grant_id);
CREATE INDEX report_rows_by_stored_at ON report_rows (tenant_id, stored_at);

CREATE TABLE campaigns (
    tenant_id              TEXT    NOT NULL,
    account_key            TEXT    NOT NULL,
    campaign_id            TEXT    NOT NULL,
    grant_id               TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    status                 TEXT    NOT NULL,
    objective              TEXT,
    daily_budget_micros    INTEGER,
    lifetime_budget_micros INTEGER,
    updated_at             INTEGER NOT NULL,
    stored_at              INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_key, campaign_id),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id)
) WITHOUT ROWID;

CREATE INDEX campaigns_by_grant ON campaigns (tenant_id, grant_id);
CREATE INDEX campaigns_by_stored_at ON campaigns (tenant_id, stored_at);

CREATE TABLE orders (
    tenant_id         TEXT    NOT NULL,
    account_key       TEXT    NOT NULL,
    order_id          TEXT    NOT NULL,
    grant_id          TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    total_micros      INTEGER NOT NULL,
    -- Sealed buyer PII (ENC-1, MIN-2): ciphertext and the data key version, or both null.
    buyer             BLOB,
    buyer_key_version INTEGER,
    stored_at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_key, order_id),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id),
    CHECK ((buyer IS NULL) = (buyer_key_version IS NULL))
) WITHOUT ROWID;

CREATE INDEX orders_by_grant ON orders (tenant_id, grant_id);
CREATE INDEX orders_by_stored_at ON orders (tenant_id, stored_at);

-- Lines keep their order: they are rewritten with their order and read back in rowid order.
CREATE TABLE order_lines (
    tenant_id         TEXT    NOT NULL,
    account_key       TEXT    NOT NULL,
    order_id          TEXT    NOT NULL,
    line_id           TEXT    NOT NULL,
    sku               TEXT    NOT NULL,
    quantity          INTEGER NOT NULL,
    unit_price_micros INTEGER NOT NULL,
    UNIQUE (tenant_id, account_key, order_id, line_id),
    FOREIGN KEY (tenant_id, account_key, order_id) REFERENCES orders (tenant_id, account_key, order_id)
        ON DELETE CASCADE
);

CREATE TABLE stock_levels (
    tenant_id   TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    sku         TEXT    NOT NULL,
    -- '' when the platform reports no location (location ids are never empty).
    location    TEXT    NOT NULL,
    grant_id    TEXT    NOT NULL,
    quantity    INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_key, sku, location),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id)
) WITHOUT ROWID;

CREATE INDEX stock_levels_by_grant ON stock_levels (tenant_id, grant_id);
CREATE INDEX stock_levels_by_stored_at ON stock_levels (tenant_id, stored_at);

CREATE TABLE sync_checkpoints (
    tenant_id   TEXT    NOT NULL,
    grant_id    TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    cursor      TEXT,
    watermark   INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, grant_id, task, account_key),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id)
) WITHOUT ROWID;

-- The audit trail (AUD-2): one hash chain per tenant (`_system` for global events). `record` is
-- `AuditRecord::encode()`: the canonical bytes and the record's hash. No foreign key: the system chain has
-- no tenant row, and chains outlive what they describe.
CREATE TABLE audit_records (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    record    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;

CREATE INDEX audit_records_by_at ON audit_records (tenant_id, at, seq);

-- Each chain's head; it survives truncation by checkpoints.
CREATE TABLE audit_heads (
    tenant_id TEXT    NOT NULL PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      BLOB    NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_checkpoints (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB    NOT NULL,
    at        INTEGER NOT NULL,
    prev      BLOB    NOT NULL,
    digest    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;

-- Personnel (global, ACC-1..4).
CREATE TABLE people (
    person_id    TEXT    NOT NULL PRIMARY KEY,
    display_name TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    tenants      TEXT    NOT NULL,
    mfa_enrolled INTEGER NOT NULL CHECK (mfa_enrolled IN (0, 1)),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Login material (SEC-1 exceptions, justified): the Argon2id PHC string (ACC-3) and the sealed TOTP seed
-- (ACC-2). Neither is a usable credential by itself.
CREATE TABLE person_credentials (
    person_id      TEXT    NOT NULL PRIMARY KEY REFERENCES people (person_id),
    password_phc   TEXT    NOT NULL,
    totp_sealed    BLOB,
    totp_last_step INTEGER,
    failed_logins  INTEGER NOT NULL,
    locked_until   INTEGER,
    updated_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- Sessions by the SHA-256 of their bearer secret (ACC-4); the secret itself is never stored.
CREATE TABLE sessions (
    session_hash    BLOB    NOT NULL PRIMARY KEY,
    person_id       TEXT    NOT NULL REFERENCES people (person_id),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    mfa_verified_at INTEGER,
    revoked_at      INTEGER
) WITHOUT ROWID;

CREATE INDEX sessions_by_person ON sessions (person_id);

-- Integrator API keys by the SHA-256 of their secret (ACC-4).
CREATE TABLE api_keys (
    api_key_id  TEXT    NOT NULL PRIMARY KEY,
    key_hash    BLOB    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    tenants     TEXT    NOT NULL,
    permissions TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
) WITHOUT ROWID;

-- Incidents are global: one may isolate several tenants (INC-1).
CREATE TABLE incidents (
    incident_id   TEXT    NOT NULL PRIMARY KEY,
    opened_by     TEXT    NOT NULL,
    opened_at     INTEGER NOT NULL,
    severity      TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    notifications TEXT    NOT NULL,
    remediation   TEXT    NOT NULL,
    review        TEXT,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE change_requests (
    tenant_id    TEXT    NOT NULL,
    change_id    TEXT    NOT NULL,
    grant_id     TEXT    NOT NULL,
    diff         TEXT    NOT NULL,
    diff_hash    BLOB    NOT NULL,
    proposed_by  TEXT    NOT NULL,
    proposed_at  INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    state_detail TEXT,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, change_id),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id)
) WITHOUT ROWID;

CREATE TABLE rights_requests (
    tenant_id              TEXT    NOT NULL REFERENCES tenants (tenant_id),
    request_id             TEXT    NOT NULL,
    kind                   TEXT    NOT NULL,
    purpose                TEXT,
    regime                 TEXT    NOT NULL,
    received_at            INTEGER NOT NULL,
    status                 TEXT    NOT NULL,
    acknowledged_at        INTEGER,
    extension_notified_at  INTEGER,
    extension_reason       TEXT,
    extension_new_due      INTEGER,
    completed_at           INTEGER,
    rejection_reason       TEXT,
    updated_at             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
) WITHOUT ROWID;

CREATE TABLE legal_holds (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (tenant_id),
    hold_id    TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    placed_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    lifted_by  TEXT,
    lifted_at  INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hold_id)
) WITHOUT ROWID;

-- Deletion receipts are immutable (RET-6).
CREATE TABLE deletion_receipts (
    tenant_id    TEXT    NOT NULL REFERENCES tenants (tenant_id),
    receipt_id   TEXT    NOT NULL,
    grant_id     TEXT,
    cause        TEXT    NOT NULL,
    items        TEXT    NOT NULL,
    recheck      TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    digest       BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, receipt_id)
) WITHOUT ROWID;

-- Background work (global): leases with expiry and a fencing number that grows with every lease.
CREATE TABLE jobs (
    job_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    tenant_id        TEXT,
    payload          TEXT    NOT NULL,
    dedupe_key       TEXT,
    run_at           INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    last_error       TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
    worker           TEXT,
    fence            INTEGER NOT NULL,
    lease_expires_at INTEGER
);

CREATE INDEX jobs_due ON jobs (kind, status, run_at);
CREATE INDEX jobs_leased ON jobs (kind, status, lease_expires_at);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running');
