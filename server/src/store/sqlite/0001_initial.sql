-- The first schema: tenants, people, sessions, conversations with their recordings, protections
-- and the audit chain. Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE organizations (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    cap  INTEGER NOT NULL DEFAULT 1000 CHECK (cap >= 0)
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX users_org ON users(org_id);

CREATE TABLE roles (
    id     INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name   TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
) STRICT;

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) STRICT;

-- Only the SHA-256 of a session token is stored: a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE conversations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    queue        TEXT,
    remote_party TEXT,
    wrap_up      TEXT
) STRICT;
CREATE INDEX conversations_org_start ON conversations(org_id, start_time, id);
CREATE INDEX conversations_org_duration ON conversations(org_id, duration_ms, id);
CREATE INDEX conversations_org_queue ON conversations(org_id, queue, start_time);

CREATE TABLE participants (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    kind            TEXT NOT NULL CHECK (kind IN ('agent', 'remote')),
    name            TEXT NOT NULL
) STRICT;
CREATE INDEX participants_conversation ON participants(conversation_id);

CREATE TABLE recordings (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    media           TEXT NOT NULL CHECK (media IN ('call', 'chat', 'email', 'message', 'screen')),
    role            TEXT NOT NULL CHECK (role IN ('policy', 'adhoc')),
    created_at      INTEGER NOT NULL,
    duration_ms     INTEGER,
    size_bytes      INTEGER,
    file_state      TEXT NOT NULL CHECK (file_state IN ('AVAILABLE', 'DELETED')),
    delete_date     INTEGER,
    archive_date    INTEGER,
    media_path      TEXT,
    transcript      TEXT
) STRICT;
CREATE INDEX recordings_conversation ON recordings(conversation_id);
-- The sweep's index: available recordings by deletion date.
CREATE INDEX recordings_due ON recordings(org_id, delete_date) WHERE file_state = 'AVAILABLE';

CREATE TABLE protections (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    protected_at    INTEGER NOT NULL,
    protected_by    TEXT NOT NULL,
    reason          TEXT
) STRICT;
CREATE INDEX protections_org ON protections(org_id);

CREATE TABLE audit_events (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    seq    INTEGER NOT NULL,
    time   INTEGER NOT NULL,
    action TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    actor_id  TEXT,
    event  TEXT NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
) STRICT;
CREATE INDEX audit_events_entity ON audit_events(org_id, entity_id);

-- The last link of each organization's chain, written in the same transaction as the event, so
-- that events cut from the end are detected.
CREATE TABLE audit_heads (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    seq    INTEGER NOT NULL,
    hash   TEXT NOT NULL
) STRICT;
