-- What an API key may do: `verify` (check tokens, send SMS), `manage`
-- (create, enroll, reset and delete users created through the API),
-- `manage-all` (manage any user of the practice, those who log in on the
-- pages included: granted explicitly). Keys made before keep what they
-- could do through the API's own users: verify and manage.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'verify manage';
