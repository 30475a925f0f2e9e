-- wrk script for scripts/bench-score.
--
-- WRK_MODE=score (default): POST /v1/score with varied transactions, each with its own transaction_id
--   (run id, thread number and a counter), so every request is a new decision rather than a replay.
--   About one in ten is a cross-border card-not-present payment likely to go to review, and about one in
--   forty a large night-time one likely to be declined.
-- WRK_MODE=healthz: plain GET of the URL given to wrk (for the baseline).
--
-- Environment: VIGIL_KEY (scoring key), WRK_MODE, BENCH_RUN (a prefix unique to this wrk run).
--
-- done() prints one line that scripts/bench-score parses:
--   RESULT mode=score requests=N seconds=S rps=R p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=…
--          non2xx=N connect_errors=N read_errors=N write_errors=N timeouts=N
-- Non-2xx answers are counted by wrk itself (summary.errors.status counts status > 399), because a
-- response() callback would cost throughput.

local mode = os.getenv("WRK_MODE") or "score"
local key = os.getenv("VIGIL_KEY") or ""
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("thread_number", thread_count)
    table.insert(threads, thread)
end

local currencies = { "EUR", "USD", "GBP", "EUR", "USD", "JPY", "CHF", "SEK", "PLN", "BRL" }
local countries = { "DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "BR", "JP", "SE", "CH" }
local channels = { "pos", "contactless", "ecommerce", "contactless", "pos", "ecommerce", "atm", "other" }
local categories = { "5411", "5812", "5999", "4111", "5732", "5462", "7995", "4829", "5311", "6011" }

-- Templates with a %s where the transaction id goes, built once per thread in init().
local templates = {}
local template_count = 0
local counter = 0
local prefix = ""

local function pick(list, i)
    return list[(i % #list) + 1]
end

local function template(i)
    -- A small deterministic generator so that runs are comparable.
    local a = (i * 7919) % 104729
    local currency = pick(currencies, a)
    local card_country = pick(countries, a + 3)
    local merchant_country = card_country
    local ip_country = card_country
    local channel = pick(channels, a + 1)
    local category = pick(categories, a + 5)
    local hour = (a * 13) % 24
    local amount = string.format("%.2f", ((a * 37) % 20000) / 100 + 1)
    local kind = i % 40
    if kind == 0 then
        -- Large, at night, cross-border, card not present: likely decline.
        amount = string.format("%.2f", 4000 + (a % 6000))
        hour = 3
        channel = "ecommerce"
        merchant_country = pick(countries, a + 7)
        ip_country = pick(countries, a + 9)
        category = "7995"
    elseif kind % 10 == 1 then
        -- Cross-border card-not-present at midday, a few hundred to a thousand: likely review.
        amount = string.format("%.2f", 600 + (a % 900))
        hour = 12
        channel = "ecommerce"
        merchant_country = (card_country == "FR") and "DE" or "FR"
    end
    local minute = a % 60
    local day = (a % 28) + 1
    local fields = {
        string.format('"transaction_id":"%%s"'),
        string.format('"occurred_at":"2025-03-%02dT%02d:%02d:%02dZ"', day, hour, minute, (a * 3) % 60),
        string.format('"amount":%s', amount),
        string.format('"currency":"%s"', currency),
        string.format('"card_id":"card_%d"', a % 5000),
        string.format('"customer_id":"cust_%d"', a % 3000),
        string.format('"merchant_id":"m_%d"', a % 400),
        string.format('"merchant_category":"%s"', category),
        string.format('"merchant_country":"%s"', merchant_country),
        string.format('"card_country":"%s"', card_country),
        string.format('"channel":"%s"', channel),
    }
    if i % 2 == 0 then
        table.insert(fields, string.format('"ip_address":"198.51.100.%d"', a % 250 + 1))
        table.insert(fields, string.format('"ip_country":"%s"', ip_country))
    end
    if i % 3 == 0 then
        table.insert(fields, string.format('"email":"user%d@example.com"', a % 2000))
        table.insert(fields, string.format('"device_id":"dev_%x"', a))
    end
    if i % 4 == 0 then
        table.insert(fields, string.format(
            '"attributes":{"account_age_days":%d,"three_ds":%s,"shipping_method":"%s","promo_code":null}',
            a % 900, (a % 2 == 0) and "true" or "false", pick({ "standard", "express", "pickup" }, a)))
    end
    return "{" .. table.concat(fields, ",") .. "}"
end

function init(args)
    if mode ~= "score" then
        return
    end
    prefix = string.format("bench-%s-%d-", run, thread_number or 0)
    template_count = 1024
    for i = 0, template_count - 1 do
        templates[i] = template(i + (thread_number or 0) * template_count)
    end
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. key
end

if mode == "score" then
    request = function()
        counter = counter + 1
        local body = string.format(templates[counter % template_count], prefix .. counter)
        return wrk.format(nil, nil, nil, body)
    end
end

function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local errors = summary.errors
    io.write(string.format(
        "RESULT mode=%s requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f " ..
        "max_ms=%.3f non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
        mode, summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000,
        errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
