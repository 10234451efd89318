-- wrk script of bench/run.py: one request shape from the environment, a bound on the count,
-- and the figures as one JSON line. Non-200 answers are counted, not only wrk's >399 errors.
local method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
local headers = os.getenv("BENCH_HEADERS") or ""
local max_per_thread = tonumber(os.getenv("BENCH_MAX_PER_THREAD") or "0")

wrk.method = method
for line in string.gmatch(headers, "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local vary = os.getenv("BENCH_VARY") or ""
local vary_from = tonumber(os.getenv("BENCH_VARY_FROM") or "0")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  answered = 0
  non200 = 0
  counter = vary_from + (id or 0) * 1000000000
end

-- With BENCH_VARY, every request carries a new value of that query parameter (BENCH_VARY_FROM
-- + 1, + 2, ...): a new scenario each time, so the app computes instead of answering from its
-- response cache.
if vary ~= "" then
  function request()
    counter = counter + 1
    local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
    return wrk.format(nil, wrk.path .. sep .. vary .. "=" .. counter)
  end
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if max_per_thread > 0 and answered >= max_per_thread then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non200") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_s":%.6f,"p50_ms":%.4f,"p99_ms":%.4f,"max_ms":%.4f,' ..
    '"non200":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, bad,
    e.connect + e.read + e.write + e.timeout))
end
