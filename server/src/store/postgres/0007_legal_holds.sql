-- Legal holds (matters); see the SQLite migration 0014.
CREATE TABLE holds (
    org_id         text NOT NULL REFERENCES organizations (id),
    id             text NOT NULL,
    name           text NOT NULL,
    case_ref       text,
    description    text,
    owner          text NOT NULL,
    created_at     bigint NOT NULL,
    released_at    bigint,
    released_by    text,
    release_reason text,
    query          text,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE hold_misses (
    org_id          text NOT NULL,
    hold_id         text NOT NULL,
    conversation_id text NOT NULL,
    at              bigint NOT NULL,
    PRIMARY KEY (org_id, hold_id, conversation_id)
);

CREATE TABLE hold_members (
    org_id          text NOT NULL,
    hold_id         text NOT NULL,
    conversation_id text NOT NULL,
    added_at        bigint NOT NULL,
    added_by        text NOT NULL,
    reason          text,
    active          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, hold_id, conversation_id)
);

CREATE INDEX hold_members_active ON hold_members (org_id, conversation_id, hold_id) WHERE active;

ALTER TABLE protections ADD COLUMN by_default boolean NOT NULL DEFAULT true;

CREATE TABLE recording_dates (
    org_id       text NOT NULL,
    recording_id text NOT NULL,
    reason       text NOT NULL,
    set_at       bigint NOT NULL,
    PRIMARY KEY (org_id, recording_id)
);

ALTER TABLE organizations ADD COLUMN two_person_release boolean NOT NULL DEFAULT false;

CREATE TABLE release_requests (
    org_id          text NOT NULL,
    id              text NOT NULL,
    hold_id         text NOT NULL,
    requested_by_id text NOT NULL,
    requested_by    text NOT NULL,
    reason          text,
    requested_at    bigint NOT NULL,
    decided_by      text,
    decided_at      bigint,
    approved        boolean,
    selection       text,
    interactions    bigint,
    PRIMARY KEY (org_id, id)
);

CREATE INDEX release_requests_pending ON release_requests (org_id, hold_id) WHERE decided_at IS NULL;

INSERT INTO holds (org_id, id, name, owner, created_at)
SELECT id, '00000000-0000-0000-0000-000000000000', 'Default hold', 'system',
       (extract(epoch FROM now()) * 1000)::bigint
FROM organizations;

CREATE FUNCTION organizations_default_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO holds (org_id, id, name, owner, created_at)
    VALUES (NEW.id, '00000000-0000-0000-0000-000000000000', 'Default hold', 'system',
            (extract(epoch FROM now()) * 1000)::bigint);
    RETURN NEW;
END $$;

CREATE TRIGGER organizations_default_hold AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION organizations_default_hold();
