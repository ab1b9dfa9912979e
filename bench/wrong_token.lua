-- wrk script: POST /login/2fa with a token, as a user on the second step.
-- The form token is the code page's (bound to this session).
local csrf = os.getenv("TOKEN_CSRF")
local cookie = os.getenv("CSRF_COOKIE")
local session = os.getenv("SESSION")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "tf_csrf=" .. cookie .. "; tf_session=" .. session
wrk.body = "token=000000&csrf_token=" .. csrf
