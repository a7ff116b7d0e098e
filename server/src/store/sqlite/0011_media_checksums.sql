-- The SHA-256 of every stored file, taken as it arrives (hex), so that downloads can name it
-- and `holdfast media verify` can tell a changed file from a good one. Files stored before this
-- have none: verify reports them apart.
ALTER TABLE recordings ADD COLUMN media_sha256 TEXT;
ALTER TABLE attachments ADD COLUMN sha256 TEXT;
