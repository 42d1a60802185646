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
