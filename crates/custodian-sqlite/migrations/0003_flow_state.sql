-- Flow state shared by every process on this database (scale-out): OAuth consents awaiting their callback,
-- and platform signals already claimed (AUTH-6 replay protection). Both tables are global (no tenant in the
-- key: a callback or a notification arrives before anyone knows its tenant) and short-lived; a put or a claim
-- drops what ended before its time. Neither is audited: the server audits the outcomes.

-- A consent by the SHA-256 of its OAuth `state` (never the state: reading this table must not let anyone
-- complete a callback). The initiator is exactly one of a session (by the SHA-256 of its token, as in
-- `sessions`) or an API key (by its id).
CREATE TABLE pending_consents (
    state_hash        BLOB    NOT NULL PRIMARY KEY CHECK (length(state_hash) = 32),
    platform          TEXT    NOT NULL,
    tenant            TEXT    NOT NULL,
    grant_id          TEXT    NOT NULL,
    initiator_session BLOB    CHECK (initiator_session IS NULL OR length(initiator_session) = 32),
    initiator_api_key TEXT,
    redirect_uri      TEXT    NOT NULL,
    expires_at        INTEGER NOT NULL,
    CHECK ((initiator_session IS NULL) <> (initiator_api_key IS NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX pending_consents_by_expiry ON pending_consents (expires_at);

-- A claimed signal by the SHA-256 of platform, path and body, until its claim ends.
CREATE TABLE seen_signals (
    signal_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(signal_hash) = 32),
    claimed_at  INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX seen_signals_by_end ON seen_signals (ends_at);
