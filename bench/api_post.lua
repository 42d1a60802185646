-- api_post.lua - wrk script for bench/api_bench.sh: POST batches of BATCH readings (default
-- 1000 consecutive 15-minute intervals ending yesterday) to /api/v1/smart-meters/{id}/readings.
-- Every request names a new meter (RUN tag + wrk thread + counter), so each batch is new data
-- that goes through the whole pipeline, not the duplicate short cut.
local key = os.getenv("KEY")
local run = os.getenv("RUN") or "r"
local batch = tonumber(os.getenv("BATCH") or "1000")
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local body, counter

function init(args)
  counter = 0
  local start = math.floor(os.time() / 86400) * 86400 - (math.floor(batch / 96) + 2) * 86400
  local parts = {}
  for i = 0, batch - 1 do
    parts[#parts + 1] = string.format('{"timestamp":"%s","consumption_kwh":%.3f,"voltage_v":%.1f}',
      os.date("!%Y-%m-%dT%H:%M:%SZ", start + 900 * i), 0.2 + 0.01 * ((i * 7) % 13), 229 + (i % 5))
  end
  body = "[" .. table.concat(parts, ",") .. "]"
end

function request()
  counter = counter + 1
  return wrk.format("POST", string.format("/api/v1/smart-meters/B%s-%d-%d/readings", run, tid, counter),
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
