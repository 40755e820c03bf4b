-- wrk script of bench/api.py: sends the request described by the environment
-- (EASEL_BENCH_METHOD, EASEL_BENCH_PATH, EASEL_BENCH_BODY, EASEL_API_KEY),
-- counts answers by HTTP status in every thread, and prints one line
-- "WRKJSON {...}" with the counts, requests/s and latency percentiles (ms).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  wrk.method = os.getenv("EASEL_BENCH_METHOD") or "GET"
  wrk.path = os.getenv("EASEL_BENCH_PATH") or "/"
  local body = os.getenv("EASEL_BENCH_BODY")
  if body and body ~= "" then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
  local key = os.getenv("EASEL_API_KEY")
  if key and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do
      agg[k] = (agg[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(agg) do
    table.insert(parts, string.format('"%d": %d', k, v))
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, "status": {%s}}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
