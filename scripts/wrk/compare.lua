-- wrk script for scripts/compare: GET /v1/transactions/{id}/explanation over a fixed list of stored ids.
--
-- Environment: VIGIL_KEY (bearer key), COMPARE_IDS (a file with one transaction id per line, URL-safe).
-- Each thread starts at its own offset in the list and cycles through it.
--
-- done() prints the same RESULT line as scripts/wrk/score.lua (mode=explain):
--   RESULT mode=explain requests=N seconds=S rps=R p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=…
--          non2xx=N connect_errors=N read_errors=N write_errors=N timeouts=N

local key = os.getenv("VIGIL_KEY") or ""
local ids_file = os.getenv("COMPARE_IDS") or "ids.txt"

local thread_count = 0
local ids = {}
local counter = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("thread_number", thread_count)
end

function init(args)
    for line in io.lines(ids_file) do
        if #line > 0 then
            table.insert(ids, line)
        end
    end
    assert(#ids > 0, "no ids in " .. ids_file)
    counter = ((thread_number or 1) - 1) * math.floor(#ids / 2)
    wrk.method = "GET"
    wrk.headers["Authorization"] = "Bearer " .. key
end

request = function()
    counter = counter + 1
    return wrk.format(nil, "/v1/transactions/" .. ids[(counter % #ids) + 1] .. "/explanation")
end

function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local errors = summary.errors
    io.write(string.format(
        "RESULT mode=explain requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f " ..
        "max_ms=%.3f non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000,
        errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
