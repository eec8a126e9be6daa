-- wrk script: catalog reads of a 10,000-section catalog (RD-00000 ...). MODE=one reads
-- single sections (GET /api/v1/sections/RD-nnnnn); MODE=page reads a filtered page
-- (GET /api/v1/sections?q=RD-nnn&limit=20: the 10 to 100 sections whose ids start so,
-- the first 20), accepting gzip as a browser does.
-- Environment: MURPHY_TOKEN, SECTIONS, MODE.

local token = os.getenv("MURPHY_TOKEN")
local sections = tonumber(os.getenv("SECTIONS") or "10000")
local mode = os.getenv("MODE") or "one"

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. token, ["Accept-Encoding"] = "gzip" }
  local path
  if mode == "page" then
    path = string.format("/api/v1/sections?q=RD-%03d&limit=20", math.random(0, math.floor(sections / 100) - 1))
  else
    path = string.format("/api/v1/sections/RD-%05d", math.random(0, sections - 1))
  end
  return wrk.format("GET", path, headers)
end
