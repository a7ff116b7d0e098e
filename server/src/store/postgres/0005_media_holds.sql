-- Conversations whose stored objects' legal holds may not agree with the database yet; see the
-- SQLite migration 0012.
CREATE TABLE media_holds (
    org_id          text NOT NULL,
    conversation_id text NOT NULL,
    mark            bigint NOT NULL,
    PRIMARY KEY (org_id, conversation_id)
);
