-- wrk-post.lua — makes every wrk request a POST of the file named by WRK_BODY_FILE (loadtest.mjs --tool wrk);
-- with WRK_DELAY_MS set, each connection waits that long before each request (loadtest.mjs --rate).
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/octet-stream"

local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause and pause > 0 then
  function delay()
    return pause
  end
end
