-- The version of the canonical form each event's bytes are in (rule 9): verification hashes the
-- stored bytes as they are and reads them by their form, so a later change to the event type
-- is a new form and never turns past events into mismatches. Every event so far is form 1.

ALTER TABLE audit_events ADD COLUMN form INTEGER NOT NULL DEFAULT 1;
