-- wrk script: POST /api/v1/sales from one terminal per wrk thread (one connection each).
-- Environment: TERMINAL_KEYS (comma-separated), MODE ("distinct" or "hot"), RUN_ID, SKUS
-- (comma-separated, three lines per basket), DEPARTS_AT.
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
  mode = os.getenv("MODE")
  run_id = os.getenv("RUN_ID")
  skus = split(os.getenv("SKUS"))
  departs_at = os.getenv("DEPARTS_AT")
  counter = 0
  statuses = {}
end

local template = '{"shopper":{"document":{"type":"passport","number":"%s","country":"CHN"},'
  .. '"name":"Bench Shopper %s","birth_date":"1988-05-17","hainan_resident":false},'
  .. '"trip":{"mode":"air","kind":"domestic","carrier_ref":"HU%s","departs_at":"%s"},'
  .. '"pickup":"departure","lines":[{"sku":"%s","quantity":1},{"sku":"%s","quantity":2},'
  .. '{"sku":"%s","quantity":1}]}'

function request()
  counter = counter + 1
  local shopper
  if mode == "hot" then
    shopper = 1
  else
    -- each terminal serves its own 500 shoppers in turn: first and repeat purchases
    shopper = 100000 + tid * 1000 + (counter % 500)
  end
  local number = string.format("E%08d", shopper)
  local flight = string.format("%04d", shopper % 10000)
  local body = string.format(template, number, number, flight, departs_at,
    skus[1], skus[2], skus[3])
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = string.format("%s-%d-%d", run_id, tid, counter),
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/api/v1/sales", headers, body)
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
