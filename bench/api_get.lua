-- api_get.lua - wrk script for bench/api_bench.sh: GET one day of readings (FROM..TO) of a
-- random meter out of METERS (SM000000..), with the API key KEY.
local key = os.getenv("KEY")
local day_from = os.getenv("FROM")
local day_to = os.getenv("TO")
local n = tonumber(os.getenv("METERS") or "200")
local prefix = os.getenv("PREFIX") or "/api/v1/smart-meters/"
math.randomseed(os.time())
request = function()
  local id = string.format("SM%06d", math.random(0, n - 1))
  return wrk.format("GET", prefix .. id .. "/readings?from=" .. day_from .. "&to=" .. day_to,
                    {["Authorization"] = "Bearer " .. key})
end

-- the tail beyond wrk's --latency table (50/75/90/99 %)
done = function(summary, latency, requests)
  local s = "Tail:"
  for _, p in ipairs({95, 98, 99, 99.5, 99.9}) do
    s = s .. string.format(" p%s %.2fms", p, latency:percentile(p) / 1000)
  end
  io.write(s .. string.format(" max %.2fms\n", latency.max / 1000))
end
