-- The interactions view's filter on a hold (`hold=`) reads `hold_members` and the default
-- hold's `protections.by_default`: a change there moves the organization's data version too,
-- so that an instance never serves a hold's total counted before it (joining a hold changes
-- no conversation row).
CREATE TRIGGER hold_members_added AFTER INSERT ON hold_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION holdfast_conversations_changed();
CREATE TRIGGER hold_members_changed AFTER UPDATE ON hold_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION holdfast_conversations_changed();
CREATE TRIGGER protections_changed AFTER UPDATE ON protections
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION holdfast_conversations_changed();
