-- Substring search on agent names without scanning every participant: an FTS5 trigram index
-- over the participants table, kept in step by triggers.

CREATE VIRTUAL TABLE participant_search USING fts5(
    name, conversation_id UNINDEXED, kind UNINDEXED,
    content = 'participants', tokenize = 'trigram');

INSERT INTO participant_search (participant_search) VALUES ('rebuild');

CREATE TRIGGER participants_insert AFTER INSERT ON participants BEGIN
    INSERT INTO participant_search (rowid, name, conversation_id, kind)
    VALUES (NEW.rowid, NEW.name, NEW.conversation_id, NEW.kind);
END;
CREATE TRIGGER participants_delete AFTER DELETE ON participants BEGIN
    INSERT INTO participant_search (participant_search, rowid, name, conversation_id, kind)
    VALUES ('delete', OLD.rowid, OLD.name, OLD.conversation_id, OLD.kind);
END;
