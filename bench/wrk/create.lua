-- POST /products with a fresh Idempotency-Key (and SKU) on every request.
-- Each wrk thread numbers its own requests; `setup` gives each thread a distinct prefix.

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("prefix", "wrk-" .. threads .. "-")
end

local headers = {}
local counter = 0

function init(args)
   for name, value in pairs(wrk.headers) do
      headers[name] = value
   end
   headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local key = prefix .. counter
   headers["Idempotency-Key"] = key
   local body = '{"name":"' .. key .. '","unitPrice":120.10,"currency":"USD","sku":"' .. key .. '"}'
   return wrk.format("POST", nil, headers, body)
end
