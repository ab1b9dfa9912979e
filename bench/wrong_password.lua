-- wrk script: POST /login with a wrong password, as a flood would, from
-- many clients behind a trusted proxy (X-Forwarded-For from 127.0.0.0/8
-- header values, no traffic to them): from one address the flood would be
-- paced to one check per 2 s and never reach argon2's limit.
-- CSRF cookie and form token come from the environment (bench/login_flood.sh).
local csrf = os.getenv("CSRF")
local cookie = os.getenv("CSRF_COOKIE")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "tf_csrf=" .. cookie
wrk.body = "username=alice&password=wrong-password&csrf_token=" .. csrf
local n = 0
function request()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = string.format("127.%d.%d.%d", (n / 65536) % 256, (n / 256) % 256, n % 256)
  return wrk.format()
end
