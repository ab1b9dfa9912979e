-- wrk script: POST /login/2fa with a token, as a user on the second step.
local csrf = os.getenv("CSRF")
local session = os.getenv("SESSION")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "tf_csrf=" .. csrf .. "; tf_session=" .. session
wrk.body = "token=000000&csrf_token=" .. csrf
