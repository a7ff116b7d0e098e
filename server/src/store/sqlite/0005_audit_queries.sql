-- The audit trail page and the Genesys audit query filter and page in SQL instead of reading
-- every event: the actor's name and the entity type as columns (computed from the event, so
-- they cannot disagree with what is hashed) and an index for each filter, each ending in seq for
-- "newest first".

ALTER TABLE audit_events ADD COLUMN actor_name TEXT GENERATED ALWAYS AS
    (coalesce(json_extract(event, '$.actor.name'), json_extract(event, '$.actor.type'))) VIRTUAL;
ALTER TABLE audit_events ADD COLUMN entity_type TEXT GENERATED ALWAYS AS
    (json_extract(event, '$.entityType')) VIRTUAL;

CREATE INDEX audit_events_action ON audit_events(org_id, action, seq);
CREATE INDEX audit_events_actor ON audit_events(org_id, actor_name, seq);
CREATE INDEX audit_events_actor_id ON audit_events(org_id, actor_id, seq);
CREATE INDEX audit_events_entity_type ON audit_events(org_id, entity_type, seq);
CREATE INDEX audit_events_time ON audit_events(org_id, time);
