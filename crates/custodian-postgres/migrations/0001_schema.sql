-- Custodian's schema on PostgreSQL (custodian-postgres). Table and column names are shared in spirit with
-- custodian-sqlite. Every tenant table has `tenant_id` first in its primary key, so the schema can be
-- distributed by tenant (e.g. Citus). Key columns use the "C" collation: byte order, the same order as the
-- natural-key strings the ports sort by, whatever the database's default collation.
--
-- No column holds a credential or a token (SEC-1): access and refresh tokens live in the secret store. The
-- person credential table holds the Argon2id PHC string (`password_phc`) and the TOTP secret sealed with the
-- system key (`totp_sealed`); sessions and API keys are stored by the SHA-256 digest of their secret
-- (`session_digest`, `key_digest`). PII columns hold only AES-256-GCM ciphertext and its key version (ENC-1).
--
-- Times are `timestamptz` (microseconds). Structured values that must round-trip to the nanosecond (change
-- diffs, whose hash covers Unix nanoseconds) are JSON documents with nanosecond integers.

-- The application role: not the owner of any table, so row-level security applies to it. Sessions log in
-- as a user that is a member of it and switch to it per transaction (`set_config('role', …, true)`).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'custodian_app') THEN
        BEGIN
            CREATE ROLE custodian_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created concurrently by another migration of the same cluster
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'custodian_app', 'MEMBER') THEN
        EXECUTE format('GRANT custodian_app TO %I', current_user);
    END IF;
END
$$;

-- Tenants and contacts ------------------------------------------------------------------------------------

CREATE TABLE tenants (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    status      TEXT NOT NULL CHECK (status IN ('active', 'offboarding', 'offboarded')),
    -- retention overrides per data class, in days: {"reporting_dataset": 90}
    contract    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE contacts (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    contact_id  TEXT COLLATE "C" NOT NULL,
    role        TEXT NOT NULL CHECK (char_length(role) <= 1000),
    -- Sealed<ContactDetails>::to_bytes(): key version, nonce, ciphertext (ENC-1)
    details     BYTEA NOT NULL,
    key_version INT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);

-- Grants --------------------------------------------------------------------------------------------------

CREATE TABLE grants (
    tenant_id               TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    grant_id                TEXT COLLATE "C" NOT NULL,
    platform                TEXT NOT NULL,
    state                   TEXT NOT NULL,
    tasks                   TEXT[] NOT NULL,
    pii_enabled             BOOLEAN NOT NULL,
    -- the validation evidence: all NULL (scopes included) until the first validation
    owner                   TEXT COLLATE "C",
    scopes                  TEXT[],
    expires_at              TIMESTAMPTZ,
    data_access_expires_at  TIMESTAMPTZ,
    validated_at            TIMESTAMPTZ,
    -- AUTH-5 review reasons and the revocation cause, as JSON
    review                  JSONB NOT NULL,
    revocation              JSONB,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, grant_id),
    CHECK ((validated_at IS NULL) = (scopes IS NULL) AND (validated_at IS NULL) = (owner IS NULL))
);
CREATE INDEX grants_stale ON grants (validated_at) WHERE state = 'active';
CREATE INDEX grants_owner ON grants (platform, owner);

-- The accounts of a grant's evidence, for routing platform signals (`locate_by_account`).
CREATE TABLE grant_accounts (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    grant_id    TEXT COLLATE "C" NOT NULL,
    platform    TEXT NOT NULL,
    account_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, grant_id, account_key),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, grant_id) ON DELETE CASCADE
);
CREATE INDEX grant_accounts_locate ON grant_accounts (platform, account_key);

-- Datasets ------------------------------------------------------------------------------------------------
-- No foreign keys to grants on these high-volume tables: the sync use case writes only under a grant it
-- has just read, and a key check per ingested row would halve bulk-ingest throughput. `stored_at` is the
-- time of the last write; retention periods run from it.
--
-- Each record's natural key is also kept as one text, `natural_key` (its parts joined by a space, which no
-- identifier contains, so the text sorts exactly like the parts): report rows `account level object day`,
-- campaigns `account campaign`, orders `account order`, stock `account sku location`. The primary key is
-- (tenant_id, natural_key): a two-column B-tree is half the cost per insert of a five-column one, and it
-- gives reads their natural-key order. `stored_at` has a BRIN index: rows are written in time order, so a
-- block-range index serves retention queries at almost no cost per insert.

CREATE TABLE report_rows (
    tenant_id               TEXT COLLATE "C" NOT NULL,
    natural_key             TEXT COLLATE "C" NOT NULL,
    account_key             TEXT COLLATE "C" NOT NULL,
    level                   TEXT COLLATE "C" NOT NULL,
    object_id               TEXT COLLATE "C" NOT NULL,
    day                     DATE NOT NULL,
    grant_id                TEXT COLLATE "C" NOT NULL,
    currency                TEXT NOT NULL,
    spend_micros            BIGINT NOT NULL,
    impressions             BIGINT NOT NULL,
    clicks                  BIGINT NOT NULL,
    conversions             BIGINT NOT NULL,
    conversion_value_micros BIGINT NOT NULL,
    stored_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, natural_key)
);
CREATE INDEX report_rows_grant ON report_rows (tenant_id, grant_id);
CREATE INDEX report_rows_stored ON report_rows USING brin (stored_at);

CREATE TABLE campaigns (
    tenant_id               TEXT COLLATE "C" NOT NULL,
    natural_key             TEXT COLLATE "C" NOT NULL,
    account_key             TEXT COLLATE "C" NOT NULL,
    campaign_id             TEXT COLLATE "C" NOT NULL,
    grant_id                TEXT COLLATE "C" NOT NULL,
    name                    TEXT NOT NULL,
    status                  TEXT NOT NULL,
    objective               TEXT,
    daily_budget_micros     BIGINT,
    lifetime_budget_micros  BIGINT,
    updated_at              TIMESTAMPTZ NOT NULL,
    stored_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, natural_key)
);
CREATE INDEX campaigns_grant ON campaigns (tenant_id, grant_id);
CREATE INDEX campaigns_stored ON campaigns USING brin (stored_at);

CREATE TABLE orders (
    tenant_id           TEXT COLLATE "C" NOT NULL,
    natural_key         TEXT COLLATE "C" NOT NULL,
    account_key         TEXT COLLATE "C" NOT NULL,
    order_id            TEXT COLLATE "C" NOT NULL,
    grant_id            TEXT COLLATE "C" NOT NULL,
    status              TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    currency            TEXT NOT NULL,
    total_micros        BIGINT NOT NULL,
    -- Sealed<BuyerPii>::to_bytes() and its key version, or both NULL (no PII, or anonymized)
    buyer               BYTEA,
    buyer_key_version   INT,
    -- SHA-256 of the lines' canonical encoding: an order whose lines changed is an update
    lines_digest        BYTEA NOT NULL,
    stored_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, natural_key),
    UNIQUE (tenant_id, account_key, order_id),
    CHECK ((buyer IS NULL) = (buyer_key_version IS NULL))
);
CREATE INDEX orders_grant ON orders (tenant_id, grant_id);
CREATE INDEX orders_stored ON orders USING brin (stored_at);
CREATE INDEX orders_pii_stored ON orders (tenant_id, stored_at) WHERE buyer IS NOT NULL;

CREATE TABLE order_lines (
    tenant_id           TEXT COLLATE "C" NOT NULL,
    account_key         TEXT COLLATE "C" NOT NULL,
    order_id            TEXT COLLATE "C" NOT NULL,
    -- the line's position in the order (lines keep their platform order)
    line_no             INT NOT NULL,
    line_id             TEXT COLLATE "C" NOT NULL,
    sku                 TEXT COLLATE "C" NOT NULL,
    quantity            INT NOT NULL CHECK (quantity >= 0),
    unit_price_micros   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, account_key, order_id, line_no),
    FOREIGN KEY (tenant_id, account_key, order_id)
        REFERENCES orders (tenant_id, account_key, order_id) ON DELETE CASCADE
);

CREATE TABLE stock_levels (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    natural_key TEXT COLLATE "C" NOT NULL,
    account_key TEXT COLLATE "C" NOT NULL,
    sku         TEXT COLLATE "C" NOT NULL,
    -- '' when the platform has no location (a key column cannot be NULL)
    location    TEXT COLLATE "C" NOT NULL,
    grant_id    TEXT COLLATE "C" NOT NULL,
    quantity    BIGINT NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,
    stored_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, natural_key)
);
CREATE INDEX stock_levels_grant ON stock_levels (tenant_id, grant_id);
CREATE INDEX stock_levels_stored ON stock_levels USING brin (stored_at);

CREATE TABLE sync_checkpoints (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    grant_id    TEXT COLLATE "C" NOT NULL,
    task        TEXT COLLATE "C" NOT NULL,
    account_key TEXT COLLATE "C" NOT NULL,
    cursor      TEXT CHECK (octet_length(cursor) <= 4096),
    watermark   TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, grant_id, task, account_key)
);

-- Audit (AUD-2) -------------------------------------------------------------------------------------------

-- One row per record: `record` is AuditRecord::encode() (canonical bytes and hash); `seq` and `at` are
-- copies for range reads. Appends lock the tenant's head row, so the chain never forks.
CREATE TABLE audit_records (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    at          TIMESTAMPTZ NOT NULL,
    record      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_records_at ON audit_records (tenant_id, at, seq);

-- The head of each chain; it survives truncation by checkpoints.
CREATE TABLE audit_heads (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq >= 0),
    hash        BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (tenant_id)
);

CREATE TABLE audit_checkpoints (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    -- position in the tenant's checkpoint chain, from 1
    n           BIGINT NOT NULL CHECK (n >= 1),
    seq         BIGINT NOT NULL CHECK (seq >= 0),
    hash        BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    at          TIMESTAMPTZ NOT NULL,
    -- the nanosecond of the second of `at` (its digest covers nanoseconds; timestamptz keeps microseconds)
    at_subsec_nanos INT NOT NULL CHECK (at_subsec_nanos BETWEEN 0 AND 999999999),
    prev        BYTEA NOT NULL CHECK (octet_length(prev) = 32),
    digest      BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    PRIMARY KEY (tenant_id, n)
);

-- Personnel (global: not per tenant, audited on the system chain) -----------------------------------------

CREATE TABLE people (
    person_id       TEXT COLLATE "C" NOT NULL,
    display_name    TEXT NOT NULL CHECK (char_length(display_name) <= 200),
    roles           TEXT[] NOT NULL,
    tenants         TEXT[] NOT NULL,
    mfa_enrolled    BOOLEAN NOT NULL,
    active          BOOLEAN NOT NULL,
    PRIMARY KEY (person_id)
);

CREATE TABLE person_credentials (
    person_id       TEXT COLLATE "C" NOT NULL REFERENCES people (person_id),
    -- the Argon2id PHC string (hash, salt, parameters), never a password (ACC-3)
    password_phc    TEXT NOT NULL CHECK (octet_length(password_phc) <= 512),
    -- the TOTP secret sealed with the system key (ACC-2)
    totp_sealed     BYTEA CHECK (octet_length(totp_sealed) <= 1024),
    totp_last_step  BIGINT,
    failed_logins   INT NOT NULL CHECK (failed_logins >= 0),
    locked_until    TIMESTAMPTZ,
    PRIMARY KEY (person_id)
);

CREATE TABLE sessions (
    -- SHA-256 of the session's bearer value; the value itself is never stored
    session_digest  BYTEA NOT NULL CHECK (octet_length(session_digest) = 32),
    person_id       TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    mfa_verified_at TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    PRIMARY KEY (session_digest)
);

CREATE TABLE api_keys (
    api_key_id  TEXT COLLATE "C" NOT NULL,
    -- SHA-256 of the key's secret part (ACC-4)
    key_digest  BYTEA NOT NULL UNIQUE CHECK (octet_length(key_digest) = 32),
    name        TEXT NOT NULL CHECK (char_length(name) <= 200),
    tenants     TEXT[] NOT NULL,
    permissions TEXT[] NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    PRIMARY KEY (api_key_id)
);

-- Cases ---------------------------------------------------------------------------------------------------

CREATE TABLE incidents (
    incident_id TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    -- the whole incident (scopes, notifications, remediation, review) as JSON
    doc         JSONB NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id)
);

CREATE TABLE change_requests (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    change_id   TEXT COLLATE "C" NOT NULL,
    grant_id    TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    diff_hash   BYTEA NOT NULL CHECK (octet_length(diff_hash) = 32),
    -- the diff, proposer and state as JSON (nanosecond times: the diff hash covers them)
    doc         JSONB NOT NULL,
    proposed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);

CREATE TABLE rights_requests (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    request_id  TEXT COLLATE "C" NOT NULL,
    status      TEXT NOT NULL,
    doc         JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

CREATE TABLE legal_holds (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    hold_id     TEXT COLLATE "C" NOT NULL,
    doc         JSONB NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, hold_id)
);

-- Deletion receipts are immutable (RET-6): inserted once, never updated.
CREATE TABLE deletion_receipts (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    receipt_id  TEXT COLLATE "C" NOT NULL,
    grant_id    TEXT COLLATE "C",
    doc         JSONB NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, receipt_id)
);

-- Jobs (global: workers lease any tenant's work; payloads are ids only) -----------------------------------

CREATE SEQUENCE job_fences;

CREATE TABLE jobs (
    job_id          BIGINT GENERATED ALWAYS AS IDENTITY,
    kind            TEXT COLLATE "C" NOT NULL CHECK (octet_length(kind) BETWEEN 1 AND 128),
    tenant_id       TEXT COLLATE "C",
    payload         TEXT NOT NULL CHECK (octet_length(payload) <= 4096),
    dedupe_key      TEXT COLLATE "C" CHECK (octet_length(dedupe_key) BETWEEN 1 AND 128),
    run_at          TIMESTAMPTZ NOT NULL,
    max_attempts    INT NOT NULL CHECK (max_attempts >= 1),
    attempts        INT NOT NULL DEFAULT 0,
    last_error      TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
    worker          TEXT,
    -- the fencing token of the current lease (0 before the first)
    fence           BIGINT NOT NULL DEFAULT 0,
    lease_expires_at TIMESTAMPTZ,
    -- when the job may next be leased: its run (or retry) time while pending, its lease expiry while running
    due_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id)
);
CREATE INDEX jobs_due ON jobs (kind, due_at, job_id) WHERE status IN ('pending', 'running');
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running');
