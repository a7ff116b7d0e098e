-- Holdfast on PostgreSQL: the same data as SQLite's migrations 0001-0009, with one change of
-- key: a conversation, a recording and an attachment are keyed by (org_id, id), so that an id
-- one organization uses is, for every other, an id that does not exist. Times are integer
-- milliseconds since the Unix epoch, UTC. Conversation summaries (protected, protectable,
-- media) are read from their rows here, not kept in columns.

CREATE TABLE organizations (
    id   text PRIMARY KEY,
    name text NOT NULL,
    cap  integer NOT NULL DEFAULT 1000 CHECK (cap >= 0)
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    org_id        text NOT NULL REFERENCES organizations (id),
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    created_at    bigint NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE roles (
    id     bigserial PRIMARY KEY,
    org_id text NOT NULL REFERENCES organizations (id),
    name   text NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE role_permissions (
    role_id    bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission text NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_clients (
    id          text PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organizations (id),
    name        text NOT NULL,
    secret_hash text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE api_client_roles (
    client_id text NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    role_id   bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, role_id)
);

CREATE TABLE access_tokens (
    token_hash text PRIMARY KEY,
    client_id  text NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    expires_at bigint NOT NULL
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE conversations (
    org_id       text NOT NULL REFERENCES organizations (id),
    id           text NOT NULL,
    start_time   bigint NOT NULL,
    end_time     bigint NOT NULL,
    duration_ms  bigint NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    queue        text,
    remote_party text,
    wrap_up      text,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX conversations_org_start ON conversations (org_id, start_time, id);
CREATE INDEX conversations_org_duration ON conversations (org_id, duration_ms, id);

CREATE TABLE participants (
    org_id          text NOT NULL,
    conversation_id text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('agent', 'remote')),
    name            text NOT NULL,
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id)
);
CREATE INDEX participants_conversation ON participants (org_id, conversation_id);

CREATE TABLE recordings (
    org_id          text NOT NULL,
    id              text NOT NULL,
    conversation_id text NOT NULL,
    media           text NOT NULL CHECK (media IN ('call', 'chat', 'email', 'message', 'screen')),
    role            text NOT NULL CHECK (role IN ('policy', 'adhoc')),
    created_at      bigint NOT NULL,
    duration_ms     bigint,
    size_bytes      bigint,
    file_state      text NOT NULL CHECK (file_state IN ('AVAILABLE', 'DELETED')),
    delete_date     bigint,
    archive_date    bigint,
    media_path      text,
    transcript      text,
    content_type    text,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id)
);
CREATE INDEX recordings_conversation ON recordings (org_id, conversation_id);
-- The sweep's index: available recordings by deletion date, across organizations.
CREATE INDEX recordings_due ON recordings (delete_date) WHERE file_state = 'AVAILABLE';

CREATE TABLE attachments (
    org_id       text NOT NULL,
    id           text NOT NULL,
    recording_id text NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    path         text,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, recording_id) REFERENCES recordings (org_id, id)
);
CREATE INDEX attachments_recording ON attachments (org_id, recording_id);

CREATE TABLE protections (
    org_id          text NOT NULL,
    conversation_id text NOT NULL,
    protected_at    bigint NOT NULL,
    protected_by    text NOT NULL,
    reason          text,
    PRIMARY KEY (org_id, conversation_id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id)
);

CREATE TABLE audit_events (
    org_id    text NOT NULL REFERENCES organizations (id),
    seq       bigint NOT NULL,
    time      bigint NOT NULL,
    action    text NOT NULL,
    entity_id text NOT NULL,
    actor_id  text,
    form      integer NOT NULL,
    event     text NOT NULL,
    hash      text NOT NULL,
    -- The columns the audit trail filters on that are not above, computed from the hashed
    -- event so that they cannot disagree with it.
    actor_name  text GENERATED ALWAYS AS
        (coalesce((event::jsonb) -> 'actor' ->> 'name', (event::jsonb) -> 'actor' ->> 'type')) STORED,
    entity_type text GENERATED ALWAYS AS ((event::jsonb) ->> 'entityType') STORED,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_events_entity ON audit_events (org_id, entity_id);
CREATE INDEX audit_events_time ON audit_events (org_id, time);
CREATE INDEX audit_events_action ON audit_events (org_id, action, seq);
CREATE INDEX audit_events_actor ON audit_events (org_id, actor_name, seq);
CREATE INDEX audit_events_actor_id ON audit_events (org_id, actor_id, seq);
CREATE INDEX audit_events_entity_type ON audit_events (org_id, entity_type, seq);

-- The last link of each organization's chain, moved in the same transaction as its events.
CREATE TABLE audit_heads (
    org_id text PRIMARY KEY REFERENCES organizations (id),
    seq    bigint NOT NULL,
    hash   text NOT NULL
);

CREATE TABLE retention_policies (
    id     text PRIMARY KEY,
    org_id text NOT NULL REFERENCES organizations (id),
    policy text NOT NULL
);
CREATE INDEX retention_policies_org ON retention_policies (org_id);

CREATE TABLE saved_views (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    query      text NOT NULL,
    created_at bigint NOT NULL,
    UNIQUE (user_id, name)
);
