-- The audit trail page filters and pages in SQL instead of reading every event: the actor's
-- name as a column (computed from the event, so it cannot disagree with what is hashed) and an
-- index for each filter, each ending in seq for "newest first".

ALTER TABLE audit_events ADD COLUMN actor_name TEXT GENERATED ALWAYS AS
    (coalesce(json_extract(event, '$.actor.name'), json_extract(event, '$.actor.type'))) VIRTUAL;

CREATE INDEX audit_events_action ON audit_events(org_id, action, seq);
CREATE INDEX audit_events_actor ON audit_events(org_id, actor_name, seq);
CREATE INDEX audit_events_time ON audit_events(org_id, time);
