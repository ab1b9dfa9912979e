-- wrk script for POST /oidc/token (bench/oidc_token.sh): each request
-- exchanges the next authorization code of CODES (one per line, each used
-- once) with the client's Basic credentials.
local auth = "Basic " .. os.getenv("BASIC")
local redirect = os.getenv("REDIRECT")
local codes = {}
for line in io.lines(os.getenv("CODES")) do
  codes[#codes + 1] = line
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local i = 0
local headers = {
  ["Authorization"] = auth,
  ["Content-Type"] = "application/x-www-form-urlencoded",
}

function request()
  i = i + 1
  local code = codes[((i - 1) % #codes) + 1]
  return wrk.format("POST", "/oidc/token", headers,
    "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect)
end

ok, refused = 0, 0
function response(status, headers, body)
  if status == 200 and body:find('"id_token"', 1, true) then
    ok = ok + 1
  else
    refused = refused + 1
  end
end

-- The counters live in each thread's state: summed here.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local exchanged, refusals = 0, 0
  for _, thread in ipairs(threads) do
    exchanged = exchanged + thread:get("ok")
    refusals = refusals + thread:get("refused")
  end
  io.write(string.format(
    "RESULT %d exchanges in %.1fs: %.0f/s  p50 %.2f ms  p99 %.2f ms  refused %d  socket errors %d\n",
    exchanged, seconds, exchanged / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, refusals,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
