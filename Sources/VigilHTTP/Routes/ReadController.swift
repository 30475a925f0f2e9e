import Foundation
import Hummingbird
import VigilCore
import VigilService
import VigilStore

/// The read routes: stored transactions and the case list.
struct ReadController {
    let reader: RecordReader

    func transaction(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        return JSONResponse.make(try await reader.transaction(id: id), request: request, compressible: true)
    }

    func cases(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let query = try Self.caseQuery(request.uri.queryParameters)
        return JSONResponse.make(try await reader.cases(query), request: request, compressible: true)
    }

    func caseDetail(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        return JSONResponse.make(try await reader.caseDetail(id: id), request: request, compressible: true)
    }

    /// The `{id}` path segment, percent-decoded, so ids with `/`, spaces or non-ASCII read back.
    static func pathID(_ context: VigilRequestContext) throws -> String {
        let raw = try context.parameters.require("id")
        guard let decoded = raw.removingPercentEncoding else {
            throw Problem.notFound("no record with id \(raw.prefix(128))")
        }
        return decoded
    }

    /// Parses `status`, `order`, `limit` and `cursor`, listing every bad parameter.
    static func caseQuery(_ parameters: Parameters) throws -> CaseQuery {
        var query = CaseQuery()
        var errors: [FieldError] = []
        var cursorToken: String?
        var seen: Set<String> = []
        for (name, value) in parameters {
            let key = String(name)
            let path = "$.query.\(key.prefix(64))"
            guard seen.insert(key).inserted else {
                errors.append(FieldError(path: path, message: "given more than once"))
                continue
            }
            switch key {
            case "status":
                if let status = CaseQuery.StatusFilter(rawValue: String(value)) {
                    query.status = status
                } else {
                    errors.append(FieldError(path: path, message: "must be open, closed or all"))
                }
            case "order":
                if let order = CaseQuery.Order(rawValue: String(value)) {
                    query.order = order
                } else {
                    errors.append(FieldError(path: path, message: "must be priority, newest or risk"))
                }
            case "assignee":
                let text = String(value)
                if text.utf8.count <= 128 {
                    query.assignee = text == "none" ? "" : text
                } else {
                    errors.append(
                        FieldError(path: path, message: "must be a reviewer name (at most 128 bytes) or none"))
                }
            case "source":
                if let source = CaseSource(rawValue: String(value)) {
                    query.source = source
                } else {
                    errors.append(FieldError(path: path, message: "must be model, sample or rule"))
                }
            case "rule":
                let text = String(value)
                if (1...128).contains(text.utf8.count) {
                    query.ruleID = text
                } else {
                    errors.append(FieldError(path: path, message: "must be a rule id of 1 to 128 bytes"))
                }
            case "min_amount":
                if let amount = Double(String(value)), amount.isFinite, amount >= 0 {
                    query.minimumAmount = amount
                } else {
                    errors.append(FieldError(path: path, message: "must be a number at or above 0"))
                }
            case "created_from", "created_before":
                if case .success(let micros) = RFC3339.parse(String(value)) {
                    if key == "created_from" {
                        query.createdFromMicros = micros
                    } else {
                        query.createdBeforeMicros = micros
                    }
                } else {
                    errors.append(
                        FieldError(path: path, message: "must be an RFC 3339 time such as 2026-11-22T10:00:00Z"))
                }
            case "limit":
                if let limit = Int(value), (1...RecordReader.maxPageSize).contains(limit) {
                    query.limit = limit
                } else {
                    errors.append(
                        FieldError(path: path, message: "must be a whole number from 1 to \(RecordReader.maxPageSize)"))
                }
            case "cursor":
                cursorToken = String(value)
            default:
                errors.append(
                    FieldError(
                        path: path,
                        message:
                            "unknown query parameter; known: status, order, assignee, source, rule, min_amount, "
                            + "created_from, created_before, limit, cursor"))
            }
        }
        if let cursorToken {
            if let cursor = CaseCursor(token: cursorToken), cursor.order == query.order {
                query.after = cursor
            } else {
                errors.append(
                    FieldError(path: "$.query.cursor", message: "is not a cursor this server issued for this order"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return query
    }
}
