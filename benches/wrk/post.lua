-- wrk script for benches/overhead.sh: POSTs one fixed JSON body and prints one machine-readable
-- result line at the end.
--
-- Environment:
--   BENCH_BODY     request body template file (contains __MODEL__ and __STREAM__)
--   BENCH_MODEL    value put in place of __MODEL__
--   BENCH_STREAM   JSON text put in place of __STREAM__ (e.g. `false`, `true`)
--   BENCH_DIALECT  anthropic | openai: which auth/version headers to send

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error("wrk/post.lua: " .. name .. " is not set")
  end
  return v
end

local f = assert(io.open(env("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()
body = body:gsub("__MODEL__", env("BENCH_MODEL"))
body = body:gsub("__STREAM__", env("BENCH_STREAM"))

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if env("BENCH_DIALECT") == "anthropic" then
  wrk.headers["anthropic-version"] = "2023-06-01"
  wrk.headers["x-api-key"] = "sk-ant-bench"
else
  wrk.headers["Authorization"] = "Bearer sk-bench"
end

-- No response() callback: defining one makes wrk parse every response in Lua and slows it down.
-- Non-2xx answers are counted by wrk itself (summary.errors.status).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "mean_us=%.1f connect_err=%d read_err=%d write_err=%d timeout_err=%d status_err=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.timeout, e.status))
end
