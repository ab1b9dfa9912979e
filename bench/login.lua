-- wrk script for full logins (bench/load.sh): password, then the code page,
-- then the app's code, as a browser does. Run with one connection per thread
-- (-t N -c N): each thread walks its share of the users, one login at a time.
-- Env: CODES (file of "username code" lines), PASSWORD, THREADS, and the
-- login form's CSRF cookie and token (LOGIN_CSRF_COOKIE, LOGIN_CSRF: read
-- from the login page once; a form token is bound to the session, so the
-- code step's token is read from the code page of each login).
-- Each user logs in once per run (a code is accepted once per step).
local entries = {}
for line in io.lines(os.getenv("CODES")) do
  local user, code = line:match("^(%S+) (%d+)$")
  entries[#entries + 1] = { user = user, code = code }
end
local password = os.getenv("PASSWORD"):gsub(" ", "+")
local cookie = os.getenv("LOGIN_CSRF_COOKIE")
local login_csrf = os.getenv("LOGIN_CSRF")
local code_csrf = nil

local threads = {}
local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

local i, stride = 0, 1
local step, session, entry = "password", nil, nil
logins, failures = 0, 0
function init(args)
  i = tid
  stride = tonumber(os.getenv("THREADS") or "1")
end

function request()
  if step == "password" then
    entry = entries[(i % #entries) + 1]
    i = i + stride
    return wrk.format("POST", "/login", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "tf_csrf=" .. cookie,
    }, "username=" .. entry.user .. "&password=" .. password .. "&csrf_token=" .. login_csrf)
  end
  if step == "page" then
    return wrk.format("GET", "/login/2fa", {
      ["Cookie"] = "tf_csrf=" .. cookie .. "; tf_session=" .. session,
    })
  end
  return wrk.format("POST", "/login/2fa", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "tf_csrf=" .. cookie .. "; tf_session=" .. session,
  }, "token=" .. entry.code .. "&csrf_token=" .. code_csrf)
end

function response(status, headers, body)
  if step == "password" then
    local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
    session = cookie:match("tf_session=([^;]+)")
    local location = headers["Location"] or headers["location"] or ""
    if status == 303 and session and location:find("^/login/2fa") then
      step = "page"
    else
      failures = failures + 1
    end
  elseif step == "page" then
    code_csrf = body:match('name="csrf_token" value="([^"]+)"')
    if status == 200 and code_csrf then
      step = "token"
    else
      failures = failures + 1
      step = "password"
    end
  else
    local location = headers["Location"] or headers["location"] or ""
    if status == 303 and location == "/" then
      logins = logins + 1
    else
      failures = failures + 1
    end
    step = "password"
  end
end

function done(summary, latency, requests)
  local l, ok, bad = latency, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("logins")
    bad = bad + thread:get("failures")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT full logins: %d in %.1fs: %.1f/s  per request (password, code page or code step) p50 %.2f ms  p99 %.2f ms  failed %d  socket errors %d\n",
    ok, seconds, ok / seconds, l:percentile(50) / 1000, l:percentile(99) / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
