-- wrk script for bench/run.py: counts every answer that is not 2xx (wrk's own "Non-2xx or 3xx" count
-- lets a 302 to the sign-in page pass) and prints one line of JSON that the runner reads.
-- The session cookie comes from the runner as a header (-H "Cookie: ..."), like any other header a page
-- sends (a conditional request's If-None-Match). The runner passes the status it expects after "--":
-- 200 means any 2xx; another (304) means exactly that one, and every other answer counts as "non2xx".

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  expected = tonumber(args[1] or "200") or 200
end

function response(status, headers, body)
  local ok
  if expected == 200 then
    ok = status >= 200 and status <= 299
  else
    ok = status == expected
  end
  if not ok then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, non2xx_total,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
