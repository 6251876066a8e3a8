-- wrk script: mixed traffic from one terminal per connection — of every 20 requests, 14
-- quotes, 5 sales and 1 quota look-up. Environment: TERMINAL_KEYS, RUN_ID, SKUS, DEPARTS_AT,
-- DELAY_MS (pause per connection between requests: the soak's offered rate; 0: flat out).
local threads = {}
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function split(text)
  local items = {}
  for item in string.gmatch(text, "[^,]+") do table.insert(items, item) end
  return items
end

function init(args)
  local keys = split(os.getenv("TERMINAL_KEYS"))
  key = keys[((tid - 1) % #keys) + 1]
  run_id = os.getenv("RUN_ID")
  skus = split(os.getenv("SKUS"))
  departs_at = os.getenv("DEPARTS_AT")
  pause = tonumber(os.getenv("DELAY_MS") or "0")
  counter = 0
  statuses = {}
end

function delay()
  return pause
end

local shopper_json = '{"document":{"type":"passport","number":"%s","country":"CHN"},'
  .. '"name":"Soak Shopper %s","birth_date":"1988-05-17","hainan_resident":false}'
local basket_json = '{"shopper":%s,"trip":{"mode":"air","kind":"domestic","carrier_ref":"HU%s",'
  .. '"departs_at":"%s"},"pickup":"departure","lines":[{"sku":"%s","quantity":1},'
  .. '{"sku":"%s","quantity":2},{"sku":"%s","quantity":1}]}'

function request()
  counter = counter + 1
  -- each connection serves its own 2,000 shoppers in turn
  local shopper = tid * 10000 + (counter % 2000)
  local number = string.format("S%08d", shopper)
  local who = string.format(shopper_json, number, number)
  local kind = counter % 20
  local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
  if kind == 0 then
    local body = string.format(
      '{"document":{"type":"passport","number":"%s","country":"CHN"},"name":"Soak Shopper %s"}',
      number, number)
    return wrk.format("POST", "/api/v1/quota-lookup", {["Content-Type"] = "application/json"}, body)
  end
  local body = string.format(basket_json, who, string.format("%04d", shopper % 10000),
    departs_at, skus[1], skus[2], skus[3])
  if kind <= 5 then
    headers["Idempotency-Key"] = string.format("%s-%d-%d", run_id, tid, counter)
    return wrk.format("POST", "/api/v1/sales", headers, body)
  end
  return wrk.format("POST", "/api/v1/quotes", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', status, n)) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
  report(summary, latency)
end
