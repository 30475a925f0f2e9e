import ArgumentParser
import Foundation
import VigilCore

/// Where the terminal client finds the server and its key.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server address (default: VIGIL_URL, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "API key with the review role (default: VIGIL_KEY).")
    var key: String?

    @Flag(help: "Print the server's JSON answer instead of the readable layout.")
    var json = false

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        let address = url ?? environment["VIGIL_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? APIClient.defaultURL
        guard let key = key ?? environment["VIGIL_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            Console.error(
                "vigil: no API key: set VIGIL_KEY or pass --key (a review key: printed by `vigil serve` on first start, "
                    + "or made with `vigil keys create --role review --name NAME`)")
            throw ExitCode(2)
        }
        return APIClient(baseURL: address, key: key)
    }

    /// Runs one exchange with the server; a failure is printed readably on stderr and ends with exit code 1.
    func perform(_ body: (APIClient) async throws(APIFailure) -> Void) async throws {
        let client = try client()
        do {
            try await body(client)
        } catch {
            Console.error("vigil: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `vigil cases next|show|list|release`.
struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases", abstract: "Work the review queue from the terminal.",
        subcommands: [Next.self, Show.self, List.self, Release.self])

    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claim the highest-priority case nobody holds and show it (GET /v1/cases/next).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.perform { client throws(APIFailure) in
                let response = try await client.expectSuccess("GET", "/v1/cases/next")
                if response.status == 204 {
                    if options.json { Console.error("the queue is empty") } else { Console.out("the queue is empty") }
                    return
                }
                CasesCommand.printCase(response, json: options.json)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one case (GET /v1/cases/{id}).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The case id (cs_…).") var id: String

        func run() async throws {
            try await options.perform { client throws(APIFailure) in
                let response = try await client.expectSuccess("GET", "/v1/cases/\(APIClient.segment(id))")
                CasesCommand.printCase(response, json: options.json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases as a table (GET /v1/cases).")
        @OptionGroup var options: ClientOptions
        @Option(help: "open, closed or all.") var status: String = "open"
        @Option(help: "Cases this reviewer holds now; `none` for cases nobody holds.") var assignee: String?
        @Option(help: "priority (the order `cases next` claims in), newest or risk.") var order: String?
        @Option(help: "Page size, 1 to 200.") var limit: Int = 50
        @Option(help: "The cursor a previous page printed, for the next page.") var cursor: String?

        func validate() throws {
            guard ["open", "closed", "all"].contains(status) else {
                throw ValidationError("--status must be open, closed or all")
            }
            if let order, !["priority", "newest", "risk"].contains(order) {
                throw ValidationError("--order must be priority, newest or risk")
            }
            guard (1...200).contains(limit) else { throw ValidationError("--limit must be 1 to 200") }
        }

        func run() async throws {
            var query: [(String, String)] = [("status", status), ("limit", String(limit))]
            if let assignee { query.append(("assignee", assignee)) }
            if let order { query.append(("order", order)) }
            if let cursor { query.append(("cursor", cursor)) }
            try await options.perform { [query] client throws(APIFailure) in
                let response = try await client.expectSuccess("GET", "/v1/cases", query: query)
                if options.json {
                    Console.out(response.text)
                } else {
                    Console.out(Layout.caseTable(response.json ?? .null))
                }
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a case you hold back to the queue (POST /v1/cases/{id}/release).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The case id (cs_…).") var id: String

        func run() async throws {
            try await options.perform { client throws(APIFailure) in
                let response = try await client.expectSuccess("POST", "/v1/cases/\(APIClient.segment(id))/release")
                if options.json {
                    Console.out(response.text)
                } else {
                    Console.out("released \(id): back in the queue")
                }
            }
        }
    }

    static func printCase(_ response: APIResponse, json: Bool) {
        if json {
            Console.out(response.text)
        } else {
            Console.out(Layout.caseDetail(response.json ?? .null))
        }
    }
}

/// `vigil label TX fraud|legit …`: `POST /v1/transactions/{TX}/labels` with an Idempotency-Key.
struct LabelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label a payment fraud or legit; closes its open case (POST /v1/transactions/{id}/labels).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The transaction id.") var transaction: String
    @Argument(help: "fraud or legit.") var label: String
    @Option(help: "review, chargeback, customer_report, issuer_alert or other.") var source: String = "review"
    @Option(help: "A short code, such as a chargeback reason code (1 to 64 bytes).") var reasonCode: String?
    @Option(help: "Free text (at most 2000 bytes).") var note: String?
    @Option(help: "When the verdict became known, RFC 3339 (default: now).") var labeledAt: String?
    @Option(help: "Sent as Idempotency-Key (default: a new UUID); reuse it to retry without labelling twice.")
    var idempotencyKey: String?

    static let sources = ["review", "chargeback", "customer_report", "issuer_alert", "other"]

    func validate() throws {
        guard ["fraud", "legit"].contains(label) else { throw ValidationError("the label must be fraud or legit") }
        guard Self.sources.contains(source) else {
            throw ValidationError("--source must be one of \(Self.sources.joined(separator: ", "))")
        }
        if let reasonCode, !(1...64).contains(reasonCode.utf8.count) {
            throw ValidationError("--reason-code must be 1 to 64 bytes")
        }
        if let note, note.utf8.count > 2_000 { throw ValidationError("--note must be at most 2000 bytes") }
        if let labeledAt, case .failure(let failure) = RFC3339.parse(labeledAt) {
            throw ValidationError("--labeled-at must be an RFC 3339 time such as 2026-11-22T10:00:00Z: \(failure)")
        }
        if let idempotencyKey, !(1...128).contains(idempotencyKey.utf8.count) {
            throw ValidationError("--idempotency-key must be 1 to 128 bytes")
        }
    }

    func body() -> Data {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.objectStart()
        writer.key("label")
        writer.string(label)
        writer.key("source")
        writer.string(source)
        if let reasonCode {
            writer.key("reason_code")
            writer.string(reasonCode)
        }
        if let note {
            writer.key("note")
            writer.string(note)
        }
        if let labeledAt {
            writer.key("labeled_at")
            writer.string(labeledAt)
        }
        writer.objectEnd()
        return Data(writer.bytes)
    }

    func run() async throws {
        let client = try options.client()
        let key = idempotencyKey ?? UUID().uuidString.lowercased()
        let path = "/v1/transactions/\(APIClient.segment(transaction))/labels"
        let response: APIResponse
        do {
            // The same key on every attempt: a retry after a lost answer never adds a second label.
            response = try await client.send(
                "POST", path, json: body(), headers: ["Idempotency-Key": key], retries: 3, retryUnreachable: true)
        } catch {
            Console.error("vigil: \(error)")
            Console.error("  the label may or may not be recorded; retry safely with --idempotency-key \(key)")
            throw ExitCode(1)
        }
        guard response.isSuccess else {
            Console.error("vigil: \(APIFailure.problem(method: "POST", path: path, response: response))")
            throw ExitCode(1)
        }
        if options.json {
            Console.out(response.text)
        } else {
            Console.out(
                Layout.labelAnswer(response.json ?? .null, replayed: response.status == 200, idempotencyKey: key))
        }
    }
}

/// `vigil stats`: `GET /v1/stats`.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Queue, verdict, miss-rate and label-maturity statistics (GET /v1/stats).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Label maturity counts payments older than this many days (1 to 3650).") var maturityDays: Int?

    func run() async throws {
        let query = maturityDays.map { [("maturity_days", String($0))] } ?? []
        try await options.perform { client throws(APIFailure) in
            let response = try await client.expectSuccess("GET", "/v1/stats", query: query)
            if options.json {
                Console.out(response.text)
            } else {
                Console.out(Layout.stats(response.json ?? .null))
            }
        }
    }
}
