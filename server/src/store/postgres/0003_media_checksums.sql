-- The SHA-256 of every stored file, taken as it arrives (hex); see the SQLite migration 0011.
ALTER TABLE recordings ADD COLUMN media_sha256 text;
ALTER TABLE attachments ADD COLUMN sha256 text;
