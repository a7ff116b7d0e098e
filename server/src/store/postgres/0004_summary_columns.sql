-- What the interactions view filters and sorts on, kept on the conversation itself, so that a
-- page or a count reads one index instead of every conversation's recordings and protection
-- (page 2000 of 24,000 conversations took 1 s reading them row by row). Triggers keep the
-- columns equal to what they summarize in the same transaction as every write; a fill (demo
-- data) turns them off and summarizes once at the end (`holdfast_summarize_all`).

ALTER TABLE conversations
    ADD COLUMN protected boolean NOT NULL DEFAULT false,
    ADD COLUMN recording_count integer NOT NULL DEFAULT 0,
    -- One bit per media: call 1, chat 2, email 4, message 8, screen 16.
    ADD COLUMN media_mask integer NOT NULL DEFAULT 0,
    -- A policy-based recording that is not deleted exists (rule 1).
    ADD COLUMN protectable boolean NOT NULL DEFAULT false,
    -- The earliest deletion date of an available recording; NULL when none ("never" sorts
    -- after every date ascending, as before).
    ADD COLUMN next_delete bigint;

CREATE FUNCTION holdfast_media_bit(media text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE media WHEN 'call' THEN 1 WHEN 'chat' THEN 2 WHEN 'email' THEN 4
                      WHEN 'message' THEN 8 ELSE 16 END
$$;

CREATE FUNCTION holdfast_summarize(o text, c text) RETURNS void LANGUAGE sql AS $$
    UPDATE conversations SET
        recording_count = s.n, media_mask = s.mask, protectable = s.protectable, next_delete = s.next
    FROM (SELECT COUNT(*) AS n,
                 COALESCE(bit_or(holdfast_media_bit(r.media)), 0) AS mask,
                 COALESCE(bool_or(r.role = 'policy' AND r.file_state = 'AVAILABLE'), false) AS protectable,
                 MIN(r.delete_date) FILTER (WHERE r.file_state = 'AVAILABLE') AS next
          FROM recordings r WHERE r.org_id = o AND r.conversation_id = c) s
    WHERE conversations.org_id = o AND conversations.id = c
$$;

CREATE FUNCTION holdfast_summarize_all() RETURNS void LANGUAGE sql AS $$
    UPDATE conversations c SET
        recording_count = s.n, media_mask = s.mask, protectable = s.protectable, next_delete = s.next
    FROM (SELECT r.org_id, r.conversation_id, COUNT(*) AS n,
                 bit_or(holdfast_media_bit(r.media)) AS mask,
                 bool_or(r.role = 'policy' AND r.file_state = 'AVAILABLE') AS protectable,
                 MIN(r.delete_date) FILTER (WHERE r.file_state = 'AVAILABLE') AS next
          FROM recordings r GROUP BY r.org_id, r.conversation_id) s
    WHERE c.org_id = s.org_id AND c.id = s.conversation_id;
    UPDATE conversations c SET protected = true
    FROM protections p WHERE p.org_id = c.org_id AND p.conversation_id = c.id;
$$;

SELECT holdfast_summarize_all();

CREATE FUNCTION holdfast_recording_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM holdfast_summarize(NEW.org_id, NEW.conversation_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER recordings_summary AFTER INSERT OR UPDATE OF file_state, delete_date, role, media
    ON recordings FOR EACH ROW EXECUTE FUNCTION holdfast_recording_changed();

-- Once per statement, over the rows it changed: a protect of a thousand conversations is one
-- UPDATE, not a thousand.
CREATE FUNCTION holdfast_protections_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET protected = true
    FROM added a WHERE c.org_id = a.org_id AND c.id = a.conversation_id;
    RETURN NULL;
END
$$;
CREATE FUNCTION holdfast_protections_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET protected = false
    FROM removed r WHERE c.org_id = r.org_id AND c.id = r.conversation_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER protections_summary AFTER INSERT ON protections
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION holdfast_protections_added();
CREATE TRIGGER protections_released AFTER DELETE ON protections
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION holdfast_protections_removed();

-- A number each organization's conversations move on with every statement that changes them,
-- read in the same snapshot as a count: an instance keeps a page's total until it moves, as
-- SQLite keeps one until its data version does, instead of counting on every page.
ALTER TABLE organizations ADD COLUMN data_version bigint NOT NULL DEFAULT 0;
CREATE FUNCTION holdfast_conversations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations SET data_version = data_version + 1
    WHERE id IN (SELECT DISTINCT org_id FROM changed);
    RETURN NULL;
END
$$;
CREATE TRIGGER conversations_added AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION holdfast_conversations_changed();
CREATE TRIGGER conversations_changed AFTER UPDATE ON conversations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION holdfast_conversations_changed();

CREATE INDEX conversations_org_next_delete ON conversations (org_id, next_delete, id);
-- Only protected conversations (at most the cap's worth per organization): a protect adds an
-- entry among few, and counts of protected ones read only these.
CREATE INDEX conversations_org_protected ON conversations (org_id, start_time, id) WHERE protected;
CREATE INDEX conversations_org_queue ON conversations (org_id, queue, start_time);

-- Substring search on agent names and remote parties (trigram indexes; pg_trgm is a trusted
-- extension, which the database's owner may create).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX participants_name_trgm ON participants USING gin (name gin_trgm_ops);
CREATE INDEX conversations_remote_trgm ON conversations USING gin (remote_party gin_trgm_ops);
