-- Remote parties searched in a trigram index over the conversations themselves: a match is the
-- conversation's own row (one lookup by rowid). Through `participant_search` each match took
-- three: the participant (for its kind and conversation), the conversation's id, its row.
-- Kept in step by triggers, as `participant_search` is. (Like it, it relies on rowids, which
-- Holdfast never changes: it does not VACUUM.)

CREATE VIRTUAL TABLE remote_search USING fts5(
    remote_party, content = 'conversations', content_rowid = 'rowid', tokenize = 'trigram');

INSERT INTO remote_search (remote_search) VALUES ('rebuild');

CREATE TRIGGER conversations_remote_insert AFTER INSERT ON conversations
WHEN NEW.remote_party IS NOT NULL BEGIN
    INSERT INTO remote_search (rowid, remote_party) VALUES (NEW.rowid, NEW.remote_party);
END;
CREATE TRIGGER conversations_remote_delete AFTER DELETE ON conversations
WHEN OLD.remote_party IS NOT NULL BEGIN
    INSERT INTO remote_search (remote_search, rowid, remote_party)
    VALUES ('delete', OLD.rowid, OLD.remote_party);
END;
CREATE TRIGGER conversations_remote_update AFTER UPDATE OF remote_party ON conversations BEGIN
    INSERT INTO remote_search (remote_search, rowid, remote_party)
    SELECT 'delete', OLD.rowid, OLD.remote_party WHERE OLD.remote_party IS NOT NULL;
    INSERT INTO remote_search (rowid, remote_party)
    SELECT NEW.rowid, NEW.remote_party WHERE NEW.remote_party IS NOT NULL;
END;
