-- The deletion forecast reads an organization's available recordings by deletion date.
CREATE INDEX recordings_org_due ON recordings(org_id, delete_date) WHERE file_state = 'AVAILABLE';
