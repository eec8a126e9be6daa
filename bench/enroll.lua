-- wrk script: durable writes against murphy serve, one command per request.
-- Each request enrolls a random student in a random section, or drops an earlier
-- enrollment of this thread, so seats keep turning over. Every answer is a durable,
-- logged command (refusals such as "full" are logged too); non-2xx answers are counted.
-- Environment: MURPHY_TOKEN (admin), STUDENTS, SECTIONS (as created by setup.sh).

local token = os.getenv("MURPHY_TOKEN")
local students = tonumber(os.getenv("STUDENTS") or "6400")
local sections = tonumber(os.getenv("SECTIONS") or "300")
local pending = {}
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

function request()
  local body
  if #pending > 32 or (#pending > 0 and math.random() < 0.5) then
    local pair = table.remove(pending, 1)
    body = string.format('{"commands":[{"type":"drop","student":"s%05d","section":"BENCH-%03d"}]}', pair[1], pair[2])
  else
    local student, section = math.random(1, students), math.random(1, sections)
    table.insert(pending, { student, section })
    body = string.format('{"commands":[{"type":"enroll","student":"s%05d","section":"BENCH-%03d"}]}', student, section)
  end
  return wrk.format("POST", "/api/v1/commands", headers, body)
end
