-- The sweep asks for available recordings whose date has come, across organizations. Keyed by
-- (org_id, delete_date), that walked every available recording of every organization when the
-- planner had no statistics; keyed by the date alone, it reads only what is due, so an idle
-- pass costs one index probe whatever the size.
DROP INDEX recordings_due;
CREATE INDEX recordings_due_at ON recordings(delete_date) WHERE file_state = 'AVAILABLE';
