-- wrk-post.lua — makes every wrk request a POST of the file named by WRK_BODY_FILE (loadtest.mjs --tool wrk).
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/octet-stream"
