-- A practice's time zone for the times its pages show (IANA name); empty
-- is the server's own.
ALTER TABLE practices ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
