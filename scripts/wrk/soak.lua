-- wrk script for scripts/soak: a mixed load, paced.
--
-- Per 100 requests: 70 scores of new payments (scoring key), 10 explanations of a payment this thread scored
-- (scoring key), 8 reads of the review queue (review key), 9 verdicts on a payment this thread scored (review key),
-- and 3 more scores; every 20,000th request of a thread is a rule backtest over the last day of event time
-- (admin key). delay() waits SOAK_DELAY_MS before each request, which is how scripts/soak holds the rate it wants.
--
-- Event time runs faster than the wall clock: each payment of a thread is SOAK_EVENT_STEP seconds after the
-- thread's previous one, so the history windows (up to 30 days) fill and start to slide within the warm-up,
-- and the rest of the soak runs at the steady state a long-running service reaches.
--
-- Environment: SCORING_KEY, REVIEW_KEY, ADMIN_KEY, BENCH_RUN (unique per wrk run), SOAK_DELAY_MS,
-- SOAK_EVENT_START (Unix seconds of this run's first payment), SOAK_EVENT_STEP (seconds, default 10).
-- done() prints one RESULT line (the fields of scripts/wrk/score.lua plus per-kind counts of 2xx answers).

local scoring = os.getenv("SCORING_KEY") or ""
local review = os.getenv("REVIEW_KEY") or ""
local admin = os.getenv("ADMIN_KEY") or ""
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local event_start = tonumber(os.getenv("SOAK_EVENT_START") or "1735689600")
local event_step = tonumber(os.getenv("SOAK_EVENT_STEP") or "10")

local threads = {}
local count = 0

function setup(thread)
    count = count + 1
    thread:set("number", count)
    table.insert(threads, thread)
end

local countries = { "DE", "FR", "US", "GB", "NL", "ES", "IT", "PL" }
local channels = { "pos", "contactless", "ecommerce", "atm" }
local counter = 0
local recent = {}
local recent_size = 0
ok = { score = 0, explain = 0, queue = 0, verdict = 0, backtest = 0 }

function init(args)
    counter = 0
end

local function event_time(i)
    return event_start + i * event_step
end

local function rfc3339(t)
    return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

-- Customers come and go, as in a service that runs for months: each of the 5,000 card slots takes a new card
-- (and its holder a new device, e-mail address and IP address) every 30 days of event time, the slots staggered
-- so some change every day. The history of a card that has gone quiet must be let go, or memory grows with
-- every card ever seen.
local churn_period = 30 * 86400

local function payment(id, i)
    local a = (i * 7919) % 104729
    local country = countries[(a % #countries) + 1]
    local foreign = countries[((a + 3) % #countries) + 1]
    local t = event_time(i)
    local holder = a % 5000
    local generation = math.floor((t + holder * churn_period / 5000) / churn_period)
    local body = string.format(
        '{"transaction_id":"%s","occurred_at":"%s","amount":%.2f,"currency":"EUR",' ..
        '"card_id":"card_%d_%d","merchant_id":"m_%d","merchant_category":"5411","card_country":"%s",' ..
        '"merchant_country":"%s","channel":"%s","device_id":"dev_%d_%d","email":"h%d.%d@example.com",' ..
        '"ip_address":"10.%d.%d.%d"}',
        id, rfc3339(t), ((a * 37) % 20000) / 100 + 1, holder, generation, a % 400, country,
        (i % 10 == 0) and foreign or country, channels[(a % #channels) + 1], holder, generation, holder,
        generation, generation % 256, math.floor(holder / 256), holder % 256)
    return body
end

local function pick_recent()
    if recent_size == 0 then return nil end
    return recent[(counter * 31) % recent_size + 1]
end

local function score()
    local id = string.format("soak-%s-%d-%d", run, number or 0, counter)
    return wrk.format("POST", "/v1/score",
        { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. scoring }, payment(id, counter))
end

function request()
    counter = counter + 1
    if counter % 20000 == 0 then
        local now = event_time(counter)
        return wrk.format("POST", "/v1/rules/backtest",
            { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. admin },
            string.format('{"expression":"amount > 150 and channel = \\"ecommerce\\"","from":"%s","to":"%s"}',
                rfc3339(now - 86400), rfc3339(now)))
    end
    local slot = counter % 100
    if slot >= 70 and slot < 80 then
        local id = pick_recent()
        if id then
            return wrk.format("GET", "/v1/transactions/" .. id .. "/explanation",
                { ["Authorization"] = "Bearer " .. scoring })
        end
    elseif slot >= 80 and slot < 88 then
        return wrk.format("GET", "/v1/cases?status=open&limit=20", { ["Authorization"] = "Bearer " .. review })
    elseif slot >= 88 and slot < 97 then
        local id = pick_recent()
        if id then
            return wrk.format("POST", "/v1/transactions/" .. id .. "/labels",
                { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. review },
                '{"label":"legit","source":"review"}')
        end
    end
    return score()
end

-- Several connections share a thread, so a response is told apart by its body, not by the last request sent.
function response(status, headers, body)
    if status < 200 or status >= 300 then return end
    local id = string.match(body, '^{"transaction_id":"(soak%-[^"]+)","score"')
    if id then
        ok.score = ok.score + 1
        if recent_size < 512 then
            recent_size = recent_size + 1
            recent[recent_size] = id
        else
            recent[(counter % 512) + 1] = id
        end
    elseif string.find(body, '"contributions"', 1, true) then
        ok.explain = ok.explain + 1
    elseif string.find(body, '"effective_label"', 1, true) then
        ok.verdict = ok.verdict + 1
    elseif string.find(body, '"strengths"', 1, true) then
        ok.backtest = ok.backtest + 1
    elseif string.find(body, '"items"', 1, true) then
        ok.queue = ok.queue + 1
    end
end

function delay()
    return pause
end

function done(summary, latency, requests)
    local totals = { score = 0, explain = 0, queue = 0, verdict = 0, backtest = 0 }
    for _, thread in ipairs(threads) do
        local counts = thread:get("ok")
        for kind, value in pairs(counts) do totals[kind] = totals[kind] + value end
    end
    local seconds = summary.duration / 1e6
    local errors = summary.errors
    io.write(string.format(
        "RESULT mode=soak requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f " ..
        "max_ms=%.3f non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d " ..
        "scores=%d explanations=%d queue_reads=%d verdicts=%d backtests=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000,
        errors.status, errors.connect, errors.read, errors.write, errors.timeout,
        totals.score, totals.explain, totals.queue, totals.verdict, totals.backtest))
end
