-- wrk script: reads of single sections. With ETAGS=<file> (lines "path etag", written
-- by run.py after setup), every request revalidates with If-None-Match and the
-- server answers 304 with no body; without it, every answer is a full 200.
-- Environment: MURPHY_TOKEN, SECTIONS, ETAGS (optional).

local token = os.getenv("MURPHY_TOKEN")
local sections = tonumber(os.getenv("SECTIONS") or "300")
local etag_file = os.getenv("ETAGS")
local etags = {}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
  if etag_file then
    for line in io.lines(etag_file) do
      local path, etag = line:match("^(%S+) (.+)$")
      etags[path] = etag
    end
  end
end

function request()
  local path = string.format("/api/v1/sections/BENCH-%03d", math.random(1, sections))
  local headers = { ["Authorization"] = "Bearer " .. token }
  if etags[path] then
    headers["If-None-Match"] = etags[path]
  end
  return wrk.format("GET", path, headers)
end
