import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import VigilService
import VigilStore

@testable import VigilHTTP

/// A Vigil application on a fresh SQLite file, with one key per role.
struct TestServer {
    let runtime: VigilRuntime
    let metrics: VigilMetrics
    let keys: [Role: String]

    static func make(_ adjust: (inout VigilConfig) -> Void = { _ in }) async throws -> TestServer {
        var config = VigilConfig()
        config.databasePath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-http-\(UUID().uuidString)/vigil.sqlite").path
        config.logRequests = false
        adjust(&config)
        let metrics = VigilMetrics()
        let runtime = try await VigilRuntime.open(
            config: config, logger: Logger(label: "test"),
            commitObserver: { metrics.recordCommit(batchSize: $0, seconds: $1, succeeded: $2) })
        var keys: [Role: String] = [:]
        for role in Role.allCases {
            keys[role] = try runtime.keys.create(name: "test-\(role)", role: role.rawValue, nowMicros: 1).key
        }
        try await runtime.authenticator.refresh()
        return TestServer(runtime: runtime, metrics: metrics, keys: keys)
    }

    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = VigilServer.buildApplication(runtime: runtime, metrics: metrics, logger: Logger(label: "test"))
        return try await app.test(.router, body)
    }

    func headers(_ role: Role?, json: Bool = true) -> HTTPFields {
        var fields = HTTPFields()
        if let role { fields[.authorization] = "Bearer \(keys[role]!)" }
        if json { fields[.contentType] = "application/json" }
        return fields
    }
}

/// A valid transaction body; `fields` replace or add top-level JSON members (raw JSON values).
func transactionJSON(_ id: String = "tx-\(UUID().uuidString)", _ fields: [String: String] = [:]) -> String {
    var members: [(String, String)] = [
        ("transaction_id", "\"\(id)\""), ("occurred_at", "\"2026-11-22T10:00:00Z\""), ("amount", "40.5"),
        ("currency", "\"EUR\""), ("card_id", "\"card_1\""), ("card_country", "\"DE\""), ("merchant_country", "\"DE\""),
        ("ip_country", "\"DE\""), ("channel", "\"pos\""), ("merchant_category", "\"5411\""),
        ("email", "\"alice@example.com\""), ("attributes", "{\"account_age_days\":420,\"vip\":true}"),
    ]
    for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
        if let index = members.firstIndex(where: { $0.0 == key }) {
            if value.isEmpty { members.remove(at: index) } else { members[index].1 = value }
        } else if !value.isEmpty {
            members.append((key, value))
        }
    }
    return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
}

/// The JSON object of a response body.
func object(_ buffer: ByteBuffer) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
    guard let object = value as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
    return object
}

/// Sends a JSON request and returns status and parsed object (or nil for a non-object body).
func call(
    _ client: any TestClientProtocol, _ server: TestServer, _ method: HTTPRequest.Method, _ uri: String,
    role: Role = .admin, body: String? = nil
) async throws -> (status: HTTPResponse.Status, json: [String: Any], text: String) {
    let response = try await client.execute(
        uri: uri, method: method, headers: server.headers(role), body: body.map { ByteBuffer(string: $0) })
    let text = String(buffer: response.body)
    let json = (try? object(response.body)) ?? [:]
    return (response.status, json, text)
}
