-- Flow state shared by every process on this database (scale-out): OAuth consents awaiting their callback,
-- and platform signals already claimed (AUTH-6 replay protection). Both tables are global, like sessions and
-- api_keys: a callback or a notification arrives before anyone knows its tenant, so there is no `tenant_id`
-- key and no row-level security policy. Both are short-lived; a put or a claim drops what ended before its
-- time. Neither is audited: the server audits the outcomes.

-- A consent by the SHA-256 digest of its OAuth `state` (never the state: reading this table must not let
-- anyone complete a callback). The initiator is exactly one of a session (by the SHA-256 digest of its
-- token, as in `sessions`) or an API key (by its id). `tenant` and `grant_id` are identifiers only.
CREATE TABLE pending_consents (
    state_digest      BYTEA NOT NULL CHECK (octet_length(state_digest) = 32),
    platform          TEXT COLLATE "C" NOT NULL,
    tenant            TEXT COLLATE "C" NOT NULL,
    grant_id          TEXT COLLATE "C" NOT NULL,
    initiator_session BYTEA CHECK (octet_length(initiator_session) = 32),
    initiator_api_key TEXT COLLATE "C",
    redirect_uri      TEXT NOT NULL CHECK (octet_length(redirect_uri) <= 2048),
    expires_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (state_digest),
    CHECK ((initiator_session IS NULL) <> (initiator_api_key IS NULL))
);
CREATE INDEX pending_consents_expiry ON pending_consents (expires_at);

-- A claimed signal by the SHA-256 digest of platform, path and body, until its claim ends.
CREATE TABLE seen_signals (
    signal_digest BYTEA NOT NULL CHECK (octet_length(signal_digest) = 32),
    claimed_at    TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (signal_digest)
);
CREATE INDEX seen_signals_end ON seen_signals (ends_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON pending_consents, seen_signals TO custodian_app;
