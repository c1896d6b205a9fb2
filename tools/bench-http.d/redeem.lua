-- wrk script for tools/bench-http: every request a POST /v1/orgs/{org}/redemptions
-- of a fresh single-use code.
--
-- usage: wrk -t T -c C -d D -s redeem.lua URL -- ORG CODES_PREFIX [mode]
--   ORG           the organisation in the path
--   CODES_PREFIX  thread i (1..T) reads its own codes from CODES_PREFIX.i, one a
--                 line; the files are disjoint, so no code is sent twice.
--                 "-": codes made up (for a server that reads none: nginx)
--   mode          "statuses": response() counts every status (wrk parses each
--                 response for Lua then, which costs speed); without it the
--                 non-2xx figure is wrk's own count of statuses >= 400
--                 (summary.errors.status).
--                 "timed:PREFIX": each answer's send time and latency, one
--                 "SENT_US LATENCY_US STATUS EXACT" line, to PREFIX.i (for
--                 --mix: which requests overlapped the batch)
--
-- When a thread's codes run out it sends its last code again (a 409, counted
-- as non-2xx) and stops; `exhausted` in the result says it happened.
-- done() prints one line: "bench-http-result {json}" with the requests,
-- duration, p50/p99 in microseconds and the error counts.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local codes = {}
local index = 0
local path
local headers = { ["Content-Type"] = "application/json" }
local synthetic = false
-- "timed:" only: each request in flight's send time, the codes in the order
-- sent (from index first on), and the clock.
local sent, order, first, now_us

-- id is set by setup(); used, exhausted and the status counts are read by done().
used = 0
exhausted = 0
statuses = ""

function init(args)
  local org, prefix, mode = args[1], args[2], args[3]
  path = "/v1/orgs/" .. org .. "/redemptions"
  if prefix == "-" then
    synthetic = true  -- a server that reads no code (nginx): made-up codes of the same shape
  else
    local file = assert(io.open(prefix .. "." .. id, "r"))
    for line in file:lines() do
      if #line > 0 then codes[#codes + 1] = line end
    end
    file:close()
  end
  if mode and mode:sub(1, 6) == "timed:" then
    -- Each answer's send time and latency (CLOCK_REALTIME, microseconds) to
    -- TIMED_PREFIX.i, matched to its request by the code the answer names.
    local ffi = require("ffi")
    ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } bench_http_timespec;
      int clock_gettime(int clock, bench_http_timespec *out);
    ]]
    local ts = ffi.new("bench_http_timespec")
    now_us = function()
      ffi.C.clock_gettime(0, ts)
      return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
    end
    local out = assert(io.open(mode:sub(7) .. "." .. id, "w"))
    sent, order, first = {}, {}, 1
    -- An answer that names its code (201) is matched exactly; one that does
    -- not (a 202 "accepted" or a problem) is taken as the answer to this
    -- thread's oldest request still unanswered (column 4: 0 instead of 1).
    response = function(status, _, body)
      local t = now_us()
      local code = body and body:match('"code"%s*:%s*"([^"]+)"')
      local exact = 1
      if not (code and sent[code]) then
        exact = 0
        code = nil
        while first <= #order do
          local oldest = order[first]
          order[first] = nil
          first = first + 1
          if sent[oldest] then code = oldest; break end
        end
      end
      if code then
        local at = sent[code]
        sent[code] = nil
        out:write(string.format("%d %d %d %d\n", at, t - at, status, exact))
      else
        out:write(string.format("0 0 %d 0\n", status))  -- nothing to match it with
      end
    end
  elseif mode == "statuses" then
    local counts = {}
    response = function(status)
      counts[status] = (counts[status] or 0) + 1
      local parts = {}
      for s, n in pairs(counts) do parts[#parts + 1] = '"' .. s .. '":' .. n end
      statuses = table.concat(parts, ",")
    end
  end
end

function request()
  if synthetic then
    index = index + 1
    used = index
    codes[1] = string.format("%04d-%04d-%04d-%d", id, math.floor(index / 10000) % 10000, index % 10000, index % 10)
  elseif index < #codes then
    index = index + 1
    used = index
  else
    exhausted = 1
    wrk.thread:stop()
  end
  local code = codes[synthetic and 1 or index] or "0000-0000-0000-0"
  if sent then
    sent[code] = now_us()
    order[#order + 1] = code
  end
  local body = '{"code":"' .. code .. '","participant":{"email":"bench-' .. id .. '-' .. index ..
    '@bench.example"}}'
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local used_total, exhausted_any, status_parts = 0, false, {}
  for _, thread in ipairs(threads) do
    used_total = used_total + (thread:get("used") or 0)
    if (thread:get("exhausted") or 0) ~= 0 then exhausted_any = true end
    local s = thread:get("statuses")
    if s and #s > 0 then status_parts[#status_parts + 1] = "{" .. s .. "}" end
  end
  local e = summary.errors
  io.write(string.format(
    'bench-http-result {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"codes_used":%d,"exhausted":%s,"statuses_per_thread":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.status, e.connect, e.read, e.write, e.timeout, used_total, tostring(exhausted_any),
    table.concat(status_parts, ",")))
end
