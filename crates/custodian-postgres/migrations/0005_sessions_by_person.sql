-- A person's sessions, for listing the live ones and signing out everywhere (`live_sessions`,
-- `revoke_sessions_of`) without scanning every session.
CREATE INDEX sessions_by_person ON sessions (person_id, created_at DESC);
