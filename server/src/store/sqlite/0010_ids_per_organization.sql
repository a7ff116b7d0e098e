-- Ids are per organization, as Genesys Cloud's are and as on PostgreSQL: an organization may
-- use a conversation or recording id that another one uses, and an ingest that does is taken
-- like any other instead of being told the id is "already used" (which told one tenant what
-- another holds). Conversations, recordings, attachments and protections are keyed by
-- (org_id, id); every table below a conversation carries its organization, so that each join
-- and each trigger matches on both.
--
-- The tables are rebuilt: renamed away, made again, copied, and the old ones dropped before
-- their indexes, triggers, summary view and search index are made again with the same names.

DROP VIEW conversation_facts;
DROP TRIGGER protections_insert;
DROP TRIGGER protections_delete;
DROP TRIGGER recordings_insert;
DROP TRIGGER recordings_update;
DROP TRIGGER participants_insert;
DROP TRIGGER participants_delete;
DROP TABLE participant_search;

ALTER TABLE attachments RENAME TO attachments_0009;
ALTER TABLE protections RENAME TO protections_0009;
ALTER TABLE participants RENAME TO participants_0009;
ALTER TABLE recordings RENAME TO recordings_0009;
ALTER TABLE conversations RENAME TO conversations_0009;

CREATE TABLE conversations (
    id              TEXT NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    start_time      INTEGER NOT NULL,
    end_time        INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    queue           TEXT,
    remote_party    TEXT,
    wrap_up         TEXT,
    protected       INTEGER NOT NULL DEFAULT 0,
    recording_count INTEGER NOT NULL DEFAULT 0,
    media_mask      INTEGER NOT NULL DEFAULT 0,
    protectable     INTEGER NOT NULL DEFAULT 0,
    next_delete     INTEGER NOT NULL DEFAULT 9223372036854775807,
    PRIMARY KEY (org_id, id)
) STRICT;

CREATE TABLE participants (
    org_id          TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('agent', 'remote')),
    name            TEXT NOT NULL,
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id)
) STRICT;

CREATE TABLE recordings (
    id              TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    media           TEXT NOT NULL CHECK (media IN ('call', 'chat', 'email', 'message', 'screen')),
    role            TEXT NOT NULL CHECK (role IN ('policy', 'adhoc')),
    created_at      INTEGER NOT NULL,
    duration_ms     INTEGER,
    size_bytes      INTEGER,
    file_state      TEXT NOT NULL CHECK (file_state IN ('AVAILABLE', 'DELETED')),
    delete_date     INTEGER,
    archive_date    INTEGER,
    media_path      TEXT,
    transcript      TEXT,
    content_type    TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id)
) STRICT;

CREATE TABLE attachments (
    id           TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    path         TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, recording_id) REFERENCES recordings(org_id, id)
) STRICT;

CREATE TABLE protections (
    conversation_id TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    protected_at    INTEGER NOT NULL,
    protected_by    TEXT NOT NULL,
    reason          TEXT,
    PRIMARY KEY (org_id, conversation_id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id)
) STRICT;

INSERT INTO conversations (id, org_id, start_time, end_time, duration_ms, direction, queue,
                           remote_party, wrap_up, protected, recording_count, media_mask,
                           protectable, next_delete)
SELECT id, org_id, start_time, end_time, duration_ms, direction, queue, remote_party, wrap_up,
       protected, recording_count, media_mask, protectable, next_delete
FROM conversations_0009 ORDER BY org_id, id;

INSERT INTO participants (rowid, org_id, conversation_id, kind, name)
SELECT p.rowid, c.org_id, p.conversation_id, p.kind, p.name
FROM participants_0009 p JOIN conversations_0009 c ON c.id = p.conversation_id;

INSERT INTO recordings (id, conversation_id, org_id, media, role, created_at, duration_ms,
                        size_bytes, file_state, delete_date, archive_date, media_path,
                        transcript, content_type)
SELECT id, conversation_id, org_id, media, role, created_at, duration_ms, size_bytes,
       file_state, delete_date, archive_date, media_path, transcript, content_type
FROM recordings_0009 ORDER BY org_id, id;

INSERT INTO attachments (id, org_id, recording_id, name, content_type, size_bytes, path)
SELECT a.id, r.org_id, a.recording_id, a.name, a.content_type, a.size_bytes, a.path
FROM attachments_0009 a JOIN recordings_0009 r ON r.id = a.recording_id;

INSERT INTO protections (conversation_id, org_id, protected_at, protected_by, reason)
SELECT conversation_id, org_id, protected_at, protected_by, reason FROM protections_0009;

DROP TABLE attachments_0009;
DROP TABLE protections_0009;
DROP TABLE participants_0009;
DROP TABLE recordings_0009;
DROP TABLE conversations_0009;

CREATE INDEX conversations_org_start ON conversations(org_id, start_time, id);
CREATE INDEX conversations_org_duration ON conversations(org_id, duration_ms, id);
CREATE INDEX conversations_org_queue ON conversations(org_id, queue, start_time);
CREATE INDEX conversations_org_direction ON conversations(org_id, direction, start_time);
CREATE INDEX conversations_org_remote ON conversations(org_id, remote_party);
CREATE INDEX conversations_org_next_delete ON conversations(org_id, next_delete, id, media_mask);
CREATE INDEX conversations_org_protected ON conversations(org_id, start_time, id) WHERE protected = 1;
CREATE INDEX conversations_org_summary ON conversations(
    org_id, start_time, recording_count, media_mask, protectable, next_delete, direction, duration_ms);
CREATE INDEX participants_conversation ON participants(org_id, conversation_id);
CREATE INDEX recordings_conversation ON recordings(org_id, conversation_id);
CREATE INDEX recordings_due_at ON recordings(delete_date) WHERE file_state = 'AVAILABLE';
CREATE INDEX attachments_recording ON attachments(org_id, recording_id);

CREATE VIEW conversation_facts AS
SELECT c.org_id AS org_id, c.id AS id,
       (SELECT COUNT(*) FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id) AS recording_count,
       COALESCE((SELECT SUM(DISTINCT CASE r.media WHEN 'call' THEN 1 WHEN 'chat' THEN 2 WHEN 'email' THEN 4
                                              WHEN 'message' THEN 8 ELSE 16 END)
                 FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id), 0) AS media_mask,
       EXISTS (SELECT 1 FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id
               AND r.role = 'policy' AND r.file_state = 'AVAILABLE') AS protectable,
       COALESCE((SELECT MIN(r.delete_date) FROM recordings r WHERE r.org_id = c.org_id
                 AND r.conversation_id = c.id AND r.file_state = 'AVAILABLE'), 9223372036854775807) AS next_delete
FROM conversations c;

CREATE TRIGGER protections_insert AFTER INSERT ON protections BEGIN
    UPDATE conversations SET protected = 1 WHERE org_id = NEW.org_id AND id = NEW.conversation_id;
END;
CREATE TRIGGER protections_delete AFTER DELETE ON protections BEGIN
    UPDATE conversations SET protected = 0 WHERE org_id = OLD.org_id AND id = OLD.conversation_id;
END;
CREATE TRIGGER recordings_insert AFTER INSERT ON recordings BEGIN
    UPDATE conversations SET
        recording_count = f.recording_count, media_mask = f.media_mask,
        protectable = f.protectable, next_delete = f.next_delete
    FROM conversation_facts f
    WHERE f.org_id = NEW.org_id AND f.id = NEW.conversation_id
      AND conversations.org_id = NEW.org_id AND conversations.id = NEW.conversation_id;
END;
CREATE TRIGGER recordings_update AFTER UPDATE OF file_state, delete_date, role, media ON recordings BEGIN
    UPDATE conversations SET
        recording_count = f.recording_count, media_mask = f.media_mask,
        protectable = f.protectable, next_delete = f.next_delete
    FROM conversation_facts f
    WHERE f.org_id = NEW.org_id AND f.id = NEW.conversation_id
      AND conversations.org_id = NEW.org_id AND conversations.id = NEW.conversation_id;
END;

CREATE VIRTUAL TABLE participant_search USING fts5(
    name, org_id UNINDEXED, conversation_id UNINDEXED, kind UNINDEXED,
    content = 'participants', tokenize = 'trigram');
INSERT INTO participant_search (participant_search) VALUES ('rebuild');
CREATE TRIGGER participants_insert AFTER INSERT ON participants BEGIN
    INSERT INTO participant_search (rowid, name, org_id, conversation_id, kind)
    VALUES (NEW.rowid, NEW.name, NEW.org_id, NEW.conversation_id, NEW.kind);
END;
CREATE TRIGGER participants_delete AFTER DELETE ON participants BEGIN
    INSERT INTO participant_search (participant_search, rowid, name, org_id, conversation_id, kind)
    VALUES ('delete', OLD.rowid, OLD.name, OLD.org_id, OLD.conversation_id, OLD.kind);
END;
