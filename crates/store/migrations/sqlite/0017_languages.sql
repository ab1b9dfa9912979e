-- The language a user chose (a tag such as "es"; empty: none chosen, the
-- browser's counts) and a practice's default for its staff whose browser
-- asks for none we speak.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN language TEXT NOT NULL DEFAULT '';
