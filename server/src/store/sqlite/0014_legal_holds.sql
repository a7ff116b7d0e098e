-- Legal holds (matters). A conversation is protected (a row in `protections`, which the cap
-- counts) while the default hold or at least one active legal hold covers it:
-- - the default hold is every organization's nil-UUID hold, which the Protect and Release
--   buttons and the Genesys flag act on; its conversations are the protections with
--   `by_default = 1` (every protection made before holds existed);
-- - a legal hold's conversations are its `hold_members` rows; `active` turns 0 when the hold is
--   released, and the rows stay for its report.
-- A protection row without `by_default` exists only while an active legal hold covers it.
CREATE TABLE holds (
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    id             TEXT NOT NULL,
    name           TEXT NOT NULL,
    case_ref       TEXT,
    description    TEXT,
    owner          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    released_at    INTEGER,
    released_by    TEXT,
    release_reason TEXT,
    -- View filters: the hold also covers every interaction that arrives later and matches.
    query          TEXT,
    PRIMARY KEY (org_id, id)
) STRICT, WITHOUT ROWID;

-- Interactions a query hold matched on arrival but could not protect: the cap was reached.
CREATE TABLE hold_misses (
    org_id          TEXT NOT NULL,
    hold_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (org_id, hold_id, conversation_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE hold_members (
    org_id          TEXT NOT NULL,
    hold_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    added_at        INTEGER NOT NULL,
    added_by        TEXT NOT NULL,
    reason          TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, hold_id, conversation_id)
) STRICT, WITHOUT ROWID;

-- Whether a conversation is held, looked up by key: only active rows, at most the cap's worth
-- per hold.
CREATE INDEX hold_members_active ON hold_members(org_id, conversation_id, hold_id) WHERE active = 1;

ALTER TABLE protections ADD COLUMN by_default INTEGER NOT NULL DEFAULT 1;

-- Why each recording's deletion date is what it is: the retention policy that set it on
-- arrival, or who set it by hand, and when.
CREATE TABLE recording_dates (
    org_id       TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    reason       TEXT NOT NULL,
    set_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, recording_id)
) STRICT, WITHOUT ROWID;

-- Two-person release: releasing a legal hold needs a second user's approval.
ALTER TABLE organizations ADD COLUMN two_person_release INTEGER NOT NULL DEFAULT 0;

-- Releases asked for and waiting for a second user (decided ones stay, with the decision).
CREATE TABLE release_requests (
    org_id          TEXT NOT NULL,
    id              TEXT NOT NULL,
    hold_id         TEXT NOT NULL,
    requested_by_id TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    reason          TEXT,
    requested_at    INTEGER NOT NULL,
    decided_by      TEXT,
    decided_at      INTEGER,
    approved        INTEGER,
    -- A release of interactions from the default hold: the selection (JSON) and its count.
    selection       TEXT,
    interactions    INTEGER,
    PRIMARY KEY (org_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX release_requests_pending ON release_requests(org_id, hold_id) WHERE decided_at IS NULL;

INSERT INTO holds (org_id, id, name, owner, created_at)
SELECT id, '00000000-0000-0000-0000-000000000000', 'Default hold', 'system',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM organizations;

CREATE TRIGGER organizations_default_hold AFTER INSERT ON organizations BEGIN
    INSERT INTO holds (org_id, id, name, owner, created_at)
    VALUES (NEW.id, '00000000-0000-0000-0000-000000000000', 'Default hold', 'system',
            CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
