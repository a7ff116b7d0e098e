-- API clients with OAuth client-credentials tokens, attachments, retention policies and saved
-- views.

CREATE TABLE api_clients (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_client_roles (
    client_id TEXT NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    role_id   INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, role_id)
) STRICT;

-- As with sessions, only the SHA-256 of a bearer token is stored.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings(id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    path         TEXT
) STRICT;
CREATE INDEX attachments_recording ON attachments(recording_id);

CREATE TABLE retention_policies (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES organizations(id),
    policy  TEXT NOT NULL
) STRICT;
CREATE INDEX retention_policies_org ON retention_policies(org_id);

CREATE TABLE saved_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
) STRICT;

-- The media type of a recording's stored bytes (audio/wav, video/webm, message/rfc822, ...).
ALTER TABLE recordings ADD COLUMN content_type TEXT;
