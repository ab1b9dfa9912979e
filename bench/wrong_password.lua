-- wrk script: POST /login with a wrong password, as a flood would.
-- CSRF cookie and token come from the environment (bench/login_flood.sh).
local csrf = os.getenv("CSRF")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "tf_csrf=" .. csrf
wrk.body = "username=alice&password=wrong-password&csrf_token=" .. csrf
