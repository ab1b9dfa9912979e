-- wrk script for POST /api/v1/users/{id}/verify (bench/api_verify.sh).
-- Env: KEY (bearer key), CODES (file of "id code wrong" lines from
-- `verify_load codes`), MODE (right|wrong).
-- Each wrk thread takes every Nth line, so a right code is sent once.
local key = os.getenv("KEY")
local mode = os.getenv("MODE") or "wrong"
local entries = {}
for line in io.lines(os.getenv("CODES")) do
  local id, code, wrong = line:match("^(%d+) (%d+) (%d+)$")
  entries[#entries + 1] = { id = id, code = code, wrong = wrong }
end

local threads = {}
local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

local i = -1
local stride = 1
function init(args)
  i = tid
  stride = tonumber(os.getenv("THREADS") or "1")
end

local headers = {
  ["Authorization"] = "Bearer " .. key,
  ["Content-Type"] = "application/json",
}

function request()
  local entry = entries[(i % #entries) + 1]
  i = i + stride
  local code = entry.code
  if mode == "wrong" then code = entry.wrong end
  return wrk.format("POST", "/api/v1/users/" .. entry.id .. "/verify", headers,
    '{"token":"' .. code .. '"}')
end

valid, invalid, other = 0, 0, 0
function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif body:find('"valid":true', 1, true) then
    valid = valid + 1
  else
    invalid = invalid + 1
  end
end

function done(summary, latency, requests)
  local l = latency
  local v, n, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    v = v + thread:get("valid")
    n = n + thread:get("invalid")
    o = o + thread:get("other")
  end
  io.write(string.format(
    "RESULT %d requests in %.1fs: %.0f/s  p50 %.2f ms  p99 %.2f ms  valid %d  invalid %d  non-200 %d  socket errors %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    l:percentile(50) / 1000, l:percentile(99) / 1000, v, n, o,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
