import Foundation
import VigilCore

/// Readable terminal layouts of the API's answers. Pure functions of the JSON (and of `now` for lease times), so
/// they are tested without a server; every field is optional, and what is missing is simply not printed.
enum Layout {
    /// `2026-11-22T08:42:46.147972Z` → `2026-11-22 08:42:46 UTC`; other offsets are shown as sent.
    static func time(_ text: String?) -> String {
        guard let text else { return "-" }
        guard text.count >= 20, text.hasSuffix("Z") || text.hasSuffix("z") else { return text }
        let date = text.prefix(10)
        let clock = text.dropFirst(11).prefix(8)
        return "\(date) \(clock) UTC"
    }

    static func date(_ text: String?) -> Date? {
        guard let text, case .success(let micros) = RFC3339.parse(text) else { return nil }
        return Date(timeIntervalSince1970: Double(micros) / 1e6)
    }

    /// `3h 12m`, `4m 10s`, `2d 3h`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(max(total, 0))s" }
        if total < 3_600 { return "\(total / 60)m \(total % 60)s" }
        if total < 86_400 { return "\(total / 3_600)h \(total % 3_600 / 60)m" }
        return "\(total / 86_400)d \(total % 86_400 / 3_600)h"
    }

    static func money(_ amount: Double?, _ currency: String?) -> String {
        guard let amount else { return "-" }
        return String(format: "%.2f", amount) + (currency.map { " \($0)" } ?? "")
    }

    static func signed(_ value: Double) -> String {
        (value >= 0 ? "+" : "") + String(format: "%.2f", value)
    }

    static func percent(_ share: Double?) -> String {
        guard let share else { return "-" }
        return String(format: "%.1f %%", share * 100)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func field(_ name: String, _ value: String) -> String {
        "  " + pad(name, 11) + " " + value
    }

    // MARK: - A case

    /// A case with its payment, decision and reasons (`GET /v1/cases/next`, `/v1/cases/{id}`, claim, release).
    static func caseDetail(_ item: JSONValue, now: Date = Date()) -> String {
        var lines: [String] = []
        lines.append("Case \(item["case_id"]?.string ?? "?")")
        var status = item["status"]?.string ?? "?"
        if let assignee = item["assignee"]?.string {
            status += ", held by \(assignee)"
            if let until = item["lease_expires_at"]?.string {
                status += " until \(time(until))"
                if let end = date(until) { status += " (\(duration(end.timeIntervalSince(now))) left)" }
            }
        } else if status == "open" {
            status += ", held by nobody"
        }
        lines.append(field("status", status))
        if let verdict = item["verdict"]?.string {
            lines.append(field("verdict", verdict + (item["closed_at"]?.string.map { ", closed \(time($0))" } ?? "")))
        }
        var origin: [String] = []
        if let priority = item["priority"]?.double { origin.append("priority " + String(format: "%.2f", priority)) }
        if let source = item["source"]?.string { origin.append("source \(source)") }
        if let rule = item["rule_id"]?.string { origin.append("rule \(rule)") }
        if !origin.isEmpty { lines.append(field("queue", origin.joined(separator: ", "))) }
        if let created = item["created_at"]?.string { lines.append(field("opened", time(created))) }
        let record = item["transaction"]
        let payment = record?["transaction"]
        lines.append("")
        lines.append("Payment \(item["transaction_id"]?.string ?? payment?["transaction_id"]?.string ?? "?")")
        lines.append(
            field(
                "amount",
                money(
                    payment?["amount"]?.double ?? item["amount"]?.double,
                    payment?["currency"]?.string ?? item["currency"]?.string)))
        if let occurred = payment?["occurred_at"]?.string { lines.append(field("time", time(occurred))) }
        if let payment {
            var merchant: [String] = []
            if let id = payment["merchant_id"]?.string { merchant.append(id) }
            if let category = payment["merchant_category"]?.string { merchant.append("category \(category)") }
            if !merchant.isEmpty { lines.append(field("merchant", merchant.joined(separator: ", "))) }
            let countries = [("card", "card_country"), ("merchant", "merchant_country"), ("ip", "ip_country")]
                .compactMap { name, key in payment[key]?.string.map { "\(name) \($0)" } }
            if !countries.isEmpty { lines.append(field("countries", countries.joined(separator: ", "))) }
            if let channel = payment["channel"]?.string { lines.append(field("channel", channel)) }
            let ids = [("card", "card_id"), ("customer", "customer_id")]
                .compactMap { name, key in payment[key]?.string.map { "\(name) \($0)" } }
            if !ids.isEmpty { lines.append(field("ids", ids.joined(separator: ", "))) }
            let buyer = [("ip", "ip_address"), ("device", "device_id"), ("email", "email")]
                .compactMap { name, key in payment[key]?.string.map { "\(name) \($0)" } }
            if !buyer.isEmpty { lines.append(field("buyer", buyer.joined(separator: ", "))) }
            if let attributes = payment["attributes"]?.object, !attributes.isEmpty {
                let text = attributes.keys.sorted().map { "\($0)=\(attributes[$0]!.text)" }.joined(separator: " ")
                lines.append(field("attributes", text))
            }
        }
        lines.append("")
        var decision = "Decision \(record?["decision"]?.string ?? "?")"
        if let risk = record?["risk_score"]?.int ?? item["risk_score"]?.int { decision += ": risk score \(risk)" }
        if let score = record?["score"]?.double ?? item["score"]?.double {
            decision += " (probability " + String(format: "%.3f", score) + ")"
        }
        lines.append(decision)
        if let model = record?["model"], let name = model["name"]?.string {
            lines.append(field("model", "\(name) version \(model["version"]?.text ?? "?")"))
        }
        if let scored = record?["scored_at"]?.string { lines.append(field("scored", time(scored))) }
        let reasons = record?["reasons"]?.array ?? []
        lines.append("")
        if reasons.isEmpty {
            lines.append("Reasons: none stored (approvals carry none unless scored with ?explain=true)")
        } else {
            lines.append("Reasons")
            for reason in reasons {
                let contribution = reason["contribution"]?.double.map(signed) ?? "     "
                let sentence =
                    reason["sentence"]?.string ?? "\(reason["feature"]?.text ?? "?") = \(reason["value"]?.text ?? "?")"
                lines.append("  \(padLeft(contribution, 6))  \(sentence)")
            }
        }
        if let rules = record?["rules"]?.array, !rules.isEmpty {
            lines.append("Rules")
            for rule in rules {
                let name = rule["rule_id"]?.string ?? rule["id"]?.string ?? rule["name"]?.string
                lines.append("  " + (name.map { "\($0) " } ?? "") + rule.json)
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - A page of cases

    static func caseTable(_ page: JSONValue) -> String {
        let items = page["items"]?.array ?? []
        guard !items.isEmpty else { return "no cases" }
        let header = ["CASE", "STATUS", "RISK", "AMOUNT", "PRIORITY", "SOURCE", "ASSIGNEE", "OPENED", "TRANSACTION"]
        var rows: [[String]] = [header]
        for item in items {
            rows.append([
                item["case_id"]?.string ?? "?",
                item["status"]?.string.map { status in item["verdict"]?.string.map { "\(status)/\($0)" } ?? status }
                    ?? "?",
                item["risk_score"]?.text ?? "-",
                money(item["amount"]?.double, item["currency"]?.string),
                item["priority"]?.double.map { String(format: "%.2f", $0) } ?? "-",
                item["source"]?.string ?? "-",
                item["assignee"]?.string ?? "-",
                time(item["created_at"]?.string).replacingOccurrences(of: " UTC", with: ""),
                item["transaction_id"]?.string ?? "?",
            ])
        }
        let rightAligned: Set<Int> = [2, 3, 4]
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                rightAligned.contains(column) ? padLeft(cell, widths[column]) : pad(cell, widths[column])
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        if let cursor = page["next_cursor"]?.string { lines.append("more: --cursor \(cursor)") }
        return lines.joined(separator: "\n")
    }

    // MARK: - A label

    static func labelAnswer(_ answer: JSONValue, replayed: Bool, idempotencyKey: String) -> String {
        var lines: [String] = []
        let label = answer["label"]
        let transaction = answer["transaction_id"]?.string ?? "?"
        if replayed {
            lines.append("already recorded with Idempotency-Key \(idempotencyKey): nothing added")
        }
        var first = "labelled \(transaction) \(label?["label"]?.string ?? "?")"
        if let source = label?["source"]?.string { first += " (\(source))" }
        if let id = label?["id"]?.text { first += ", label \(id)" }
        if let by = label?["recorded_by"]?.string { first += " by \(by)" }
        if let at = label?["labeled_at"]?.string { first += ", labeled at \(time(at))" }
        lines.append(first)
        if let closed = answer["closed_case_id"]?.string {
            lines.append("closed case \(closed)")
        } else if !replayed {
            lines.append("no open case was closed")
        }
        if let effective = answer["effective_label"], let value = effective["label"]?.string {
            lines.append(
                "effective label: \(value) from \(effective["source"]?.string ?? "?")"
                    + (effective["labeled_at"]?.string.map { " (\(time($0)))" } ?? ""))
        }
        if let history = answer["history"]?.array {
            lines.append("history: \(history.count) label\(history.count == 1 ? "" : "s")")
        }
        if !replayed { lines.append("idempotency key: \(idempotencyKey)") }
        return lines.joined(separator: "\n")
    }

    // MARK: - Statistics

    static func stats(_ stats: JSONValue) -> String {
        var lines: [String] = []
        func row(_ name: String, _ value: String) { lines.append("  " + pad(name, 26) + " " + value) }
        func count(_ value: JSONValue?) -> String { value?.text ?? "-" }
        func seconds(_ value: JSONValue?) -> String { value?.double.map(duration) ?? "-" }
        var known: Set<String> = []
        if let queue = stats["queue"] {
            known.insert("queue")
            lines.append("Queue")
            var open = count(queue["open"])
            if let unassigned = queue["open_unassigned"] { open += " (unassigned \(count(unassigned)))" }
            row("open cases", open)
            if let bySource = queue["by_source"]?.object, !bySource.isEmpty {
                row("by source", bySource.keys.sorted().map { "\($0) \(bySource[$0]!.text)" }.joined(separator: ", "))
            }
            if let oldest = queue["oldest_open_age_seconds"] { row("oldest open case", seconds(oldest)) }
        }
        if let verdicts = stats["verdicts"] {
            known.insert("verdicts")
            lines.append("Verdicts")
            if let last = verdicts["last_24h"] { row("last 24 hours", count(last)) }
            for reviewer in verdicts["per_reviewer_per_hour"]?.array ?? [] {
                let perHour = reviewer["per_hour"]?.double.map { String(format: "%.1f", $0) } ?? "-"
                row(
                    "  " + (reviewer["reviewer"]?.string ?? "?"),
                    "\(count(reviewer["verdicts"])) (\(perHour) per hour)")
            }
            if verdicts["median_time_to_verdict_seconds"] != nil || verdicts["p90_time_to_verdict_seconds"] != nil {
                row(
                    "time to verdict",
                    "median \(seconds(verdicts["median_time_to_verdict_seconds"])), "
                        + "p90 \(seconds(verdicts["p90_time_to_verdict_seconds"]))")
            }
        }
        if let reviewed = stats["reviewed"] {
            known.insert("reviewed")
            lines.append("Reviewed cases")
            row("closed with a verdict", count(reviewed["cases"]))
            row(
                "confirmed fraud",
                count(reviewed["confirmed_fraud"]) + " (\(percent(reviewed["fraud_share"]?.double)))")
        }
        if let sample = stats["sample"] {
            known.insert("sample")
            lines.append("Exploration sample (approvals reviewed at random)")
            row("labelled", count(sample["labelled"]) + ", fraud " + count(sample["fraud"]))
            var miss = percent(sample["miss_rate"]?.double)
            if let interval = sample["miss_rate_95ci"]?.array, interval.count == 2,
                let low = interval[0].double, let high = interval[1].double
            {
                miss += " (95 % interval \(percent(low)) to \(percent(high)))"
            }
            row("miss rate of approvals", miss)
        }
        if let labels = stats["labels"] {
            known.insert("labels")
            lines.append("Label maturity")
            let days = labels["maturity_days"]?.text ?? "?"
            row(
                "payments older than \(days)d",
                "\(count(labels["transactions_older"])), labelled \(count(labels["labelled"]))"
                    + " (\(percent(labels["maturity"]?.double)))")
        }
        for (name, value) in (stats.object ?? [:]).sorted(by: { $0.key < $1.key }) where !known.contains(name) {
            lines.append("\(name): \(value.json)")
        }
        return lines.joined(separator: "\n")
    }
}
