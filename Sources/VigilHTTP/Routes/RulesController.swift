import Foundation
import Hummingbird
import NIOCore
import VigilCore
import VigilService
import VigilStore

/// Rules, their backtests, the named lists they read and the alerts: `/v1/rules`, `/v1/lists`, `/v1/alerts`.
struct RulesController {
    let rules: RuleService
    let maxBodyBytes: Int
    /// Bulk list uploads may be larger than a payment: 100,000 values of up to 256 bytes.
    static let maxListBodyBytes = 32 * 1_048_576

    // MARK: - Rules

    func list(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var status: RuleStatus?
        var limit = 50
        var after: RuleCursor?
        try Self.query(request, known: ["status", "limit", "cursor"]) { key, text, errors in
            switch key {
            case "status":
                status = RuleStatus(rawValue: text)
                if status == nil {
                    errors.append(
                        Self.queryError(
                            key, "must be one of \(RuleStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
            case "limit":
                if let number = Int(text), (1...500).contains(number) {
                    limit = number
                } else {
                    errors.append(Self.queryError(key, "must be a whole number from 1 to 500"))
                }
            default:
                after = RuleCursor(encoded: text)
                if after == nil { errors.append(Self.queryError(key, "is not a cursor this server issued")) }
            }
        }
        return JSONResponse.make(
            try await rules.list(status: status, limit: limit, after: after), request: request, compressible: true)
    }

    func create(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await Self.bytes(RequestBodyReader.jsonBody(request, limit: maxBodyBytes))
        let created = try await rules.create(body: body, actor: ModelsController.actor(context))
        var response = JSONResponse.make(created.json, request: request)
        response.status = .created
        response.headers[.location] = "/v1/rules/\(created.id)"
        return response
    }

    func rule(_ request: Request, context: VigilRequestContext) async throws -> Response {
        JSONResponse.make(try await rules.rule(id: try Self.ruleID(context)), request: request)
    }

    func versions(_ request: Request, context: VigilRequestContext) async throws -> Response {
        JSONResponse.make(
            try await rules.versions(ruleID: try Self.ruleID(context)), request: request, compressible: true)
    }

    func update(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.ruleID(context)
        let body = try await Self.bytes(RequestBodyReader.jsonBody(request, limit: maxBodyBytes))
        return JSONResponse.make(
            try await rules.update(ruleID: id, body: body, actor: ModelsController.actor(context)), request: request)
    }

    func backtest(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await Self.bytes(RequestBodyReader.jsonBody(request, limit: maxBodyBytes))
        return JSONResponse.make(try await rules.backtest(body: body), request: request)
    }

    // MARK: - Lists

    func lists(_ request: Request, context: VigilRequestContext) async throws -> Response {
        JSONResponse.make(try await rules.allLists(), request: request, compressible: true)
    }

    func createList(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await Self.bytes(RequestBodyReader.jsonBody(request, limit: Self.maxListBodyBytes))
        var response = JSONResponse.make(
            try await rules.createList(body: body, actor: ModelsController.actor(context)), request: request)
        response.status = .created
        return response
    }

    func listPage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let name = try Self.listName(context)
        var limit = 100
        var after: String?
        try Self.query(request, known: ["limit", "cursor"]) { key, text, errors in
            if key == "limit" {
                if let number = Int(text), (1...1000).contains(number) {
                    limit = number
                } else {
                    errors.append(Self.queryError(key, "must be a whole number from 1 to 1000"))
                }
            } else {
                after = text
            }
        }
        return JSONResponse.make(
            try await rules.listPage(name: name, after: after, limit: limit), request: request, compressible: true)
    }

    /// `POST /v1/lists/{name}/items`: `{"values": [...]}` as JSON, or `text/plain` with one value per line.
    func addItems(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await changeItems(request, context: context, remove: false)
    }

    /// `POST /v1/lists/{name}/items/remove`: the same bodies, values removed.
    func removeItems(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await changeItems(request, context: context, remove: true)
    }

    private func changeItems(_ request: Request, context: VigilRequestContext, remove: Bool) async throws -> Response {
        let name = try Self.listName(context)
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let values: [String]
        if contentType.hasPrefix("text/plain") {
            let body = try await RequestBodyReader.body(request, limit: Self.maxListBodyBytes)
            values = try rules.values(fromText: Self.bytes(body))
        } else {
            let body = try await RequestBodyReader.jsonBody(request, limit: Self.maxListBodyBytes)
            values = try rules.values(fromJSON: Self.bytes(body))
        }
        return JSONResponse.make(
            try await rules.changeItems(
                name: name, values: values, remove: remove, actor: ModelsController.actor(context)),
            request: request)
    }

    /// `DELETE /v1/lists/{name}/items/{value}`.
    func removeItem(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let name = try Self.listName(context)
        let raw = try context.parameters.require("value")
        guard let value = raw.removingPercentEncoding, !value.isEmpty else {
            throw Problem.notFound("no value \(raw.prefix(64)) in list \(name)")
        }
        return JSONResponse.make(
            try await rules.changeItems(
                name: name, values: [value], remove: true, actor: ModelsController.actor(context)),
            request: request)
    }

    /// `DELETE /v1/lists/{name}`: 204.
    func deleteList(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await rules.deleteList(name: try Self.listName(context), actor: ModelsController.actor(context))
        return Response(status: .noContent)
    }

    // MARK: - Alerts

    func alerts(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var kind: String?
        var subject: String?
        var limit = 50
        var before: Int64?
        try Self.query(request, known: ["kind", "subject_id", "limit", "before"]) { key, text, errors in
            switch key {
            case "kind", "subject_id":
                guard (1...128).contains(text.utf8.count) else {
                    errors.append(Self.queryError(key, "must be 1 to 128 bytes"))
                    return
                }
                if key == "kind" { kind = text } else { subject = text }
            case "limit":
                if let number = Int(text), (1...500).contains(number) {
                    limit = number
                } else {
                    errors.append(Self.queryError(key, "must be a whole number from 1 to 500"))
                }
            default:
                if case .success(let micros) = RFC3339.parse(text) {
                    before = micros
                } else {
                    errors.append(Self.queryError(key, "must be an RFC 3339 time such as 2026-11-22T10:00:00Z"))
                }
            }
        }
        return JSONResponse.make(
            try await rules.alertList(kind: kind, subjectID: subject, limit: limit, beforeMicros: before),
            request: request, compressible: true)
    }

    // MARK: - Helpers

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }

    static func ruleID(_ context: VigilRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard (1...64).contains(id.utf8.count) else { throw Problem.notFound("no rule with id \(id.prefix(64))") }
        return id
    }

    static func listName(_ context: VigilRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard ListStore.isValidName(name) else { throw Problem.notFound("no list named \(name.prefix(64))") }
        return name
    }

    static func queryError(_ key: String, _ message: String) -> FieldError {
        FieldError(path: "$.query.\(key)", message: message)
    }

    /// Calls `handle` for each known parameter (once each); unknown or repeated ones are errors.
    static func query(
        _ request: Request, known: [String], _ handle: (String, String, inout [FieldError]) -> Void
    ) throws {
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (name, value) in request.uri.queryParameters {
            let key = String(name)
            let path = "$.query.\(key.prefix(64))"
            guard seen.insert(key).inserted else {
                errors.append(FieldError(path: path, message: "given more than once"))
                continue
            }
            guard known.contains(key) else {
                errors.append(
                    FieldError(path: path, message: "unknown query parameter; known: \(known.joined(separator: ", "))"))
                continue
            }
            handle(key, String(value), &errors)
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
    }
}
