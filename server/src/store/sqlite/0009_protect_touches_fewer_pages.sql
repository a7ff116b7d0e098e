-- A protect or release of a thousand conversations wrote about five random pages each (19 MB
-- of WAL): the conversation, the protections key, the audit entity index, and two conversation
-- indexes holding `protected`. Those two stop changing with it:
-- * the protected index keeps only protected conversations (a partial index of at most the
--   cap's worth of rows per organization), so a protect adds an entry among few instead of
--   moving one inside the organization's million;
-- * the summary index drops `protected`: a summary counts what is protectable and subtracts
--   the protected ones, which it counts through the protected index (see `summarize`).
-- Raw transactions of 960 protections with their audit rows on a copy of the 1M benchmark
-- database: 126 -> 98 ms with the partial index, about 50 ms with both.

DROP INDEX conversations_org_protected;
CREATE INDEX conversations_org_protected ON conversations(org_id, start_time, id) WHERE protected = 1;

DROP INDEX conversations_org_summary;
CREATE INDEX conversations_org_summary ON conversations(
    org_id, start_time, recording_count, media_mask, protectable, next_delete, direction, duration_ms);
