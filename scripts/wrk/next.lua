-- wrk script for scripts/bench-review: GET /v1/cases/next with one of 32 reviewers' keys per request.
-- Environment: REVIEW_KEYS (comma-separated). done() prints a RESULT line like scripts/wrk/score.lua's, plus
-- claimed= (200 answers) and empty= (204 answers) counted per thread.

local keys = {}
for key in string.gmatch(os.getenv("REVIEW_KEYS") or "", "([^,]+)") do
    table.insert(keys, key)
end

local threads = {}
function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_index", #threads)
end

-- Globals, so that done() can read each thread's counts with thread:get().
counter = 0
claimed = 0
empty = 0

function init(args)
    counter = (thread_index or 1) * 7
end

request = function()
    counter = counter + 1
    return wrk.format("GET", "/v1/cases/next", { ["Authorization"] = "Bearer " .. keys[(counter % #keys) + 1] })
end

response = function(status, headers, body)
    if status == 200 then
        claimed = claimed + 1
    elseif status == 204 then
        empty = empty + 1
    end
end

function done(summary, latency, requests)
    local total_claimed, total_empty = 0, 0
    for _, thread in ipairs(threads) do
        total_claimed = total_claimed + thread:get("claimed")
        total_empty = total_empty + thread:get("empty")
    end
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "RESULT mode=next requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d " ..
        "claimed=%d empty=%d errors=%d\n",
        summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status, total_claimed, total_empty,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
