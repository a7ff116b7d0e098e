-- Conversations whose stored objects' legal holds may not agree with the database yet: marked
-- in the transaction that protects, releases or adds an object to a protected conversation,
-- cleared once storage was made to agree (an outbox). `mark` moves on every change, so that a
-- clearing that read an older state does not clear a newer one.
CREATE TABLE media_holds (
    org_id          TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    mark            INTEGER NOT NULL,
    PRIMARY KEY (org_id, conversation_id)
) STRICT, WITHOUT ROWID;
