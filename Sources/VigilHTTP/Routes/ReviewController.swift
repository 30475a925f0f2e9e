import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore
import VigilService
import VigilStore

/// The review loop's routes: claim the next case, claim and release one, label, read labels and the audit log.
struct ReviewController {
    let review: ReviewService
    let maxBodyBytes: Int

    static func reviewer(_ context: VigilRequestContext) -> String {
        context.principal?.name ?? "unknown"
    }

    /// `GET /v1/cases/next`: 200 with the claimed case, 204 when nothing is waiting.
    func next(_ request: Request, context: VigilRequestContext) async throws -> Response {
        guard let json = try await review.claimNext(reviewer: Self.reviewer(context)) else {
            return Response(status: .noContent)
        }
        return JSONResponse.make(json, request: request, compressible: true)
    }

    func claim(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try ReadController.pathID(context)
        return JSONResponse.make(
            try await review.claim(caseID: id, reviewer: Self.reviewer(context)), request: request, compressible: true)
    }

    func release(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try ReadController.pathID(context)
        return JSONResponse.make(
            try await review.release(caseID: id, reviewer: Self.reviewer(context)), request: request,
            compressible: true)
    }

    /// `POST /v1/transactions/{id}/labels`: 201 with the label and the history; 200 for an Idempotency-Key replay.
    func label(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try ReadController.pathID(context)
        let body = try await RequestBodyReader.jsonBody(request, limit: maxBodyBytes)
        let key = request.headers[HTTPField.Name("Idempotency-Key")!]
        var buffer = body
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let outcome = try await review.label(
            transactionID: id, body: bytes, idempotencyKey: key, reviewer: Self.reviewer(context))
        var response = JSONResponse.make(outcome.json, request: request)
        if outcome.created { response.status = .created }
        return response
    }

    func labels(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try ReadController.pathID(context)
        return JSONResponse.make(try await review.labels(transactionID: id), request: request, compressible: true)
    }

    /// `GET /v1/stats?maturity_days=N` (default 30).
    func stats(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var days = 30
        var errors: [FieldError] = []
        for (name, value) in request.uri.queryParameters {
            let key = String(name)
            if key == "maturity_days", let number = Int(String(value)), (1...3_650).contains(number) {
                days = number
            } else if key == "maturity_days" {
                errors.append(
                    FieldError(path: "$.query.maturity_days", message: "must be a whole number from 1 to 3650"))
            } else {
                errors.append(
                    FieldError(
                        path: "$.query.\(key.prefix(64))", message: "unknown query parameter; known: maturity_days"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return JSONResponse.make(try await review.stats(maturityDays: days), request: request)
    }

    /// `GET /v1/audit` with `entity_type`, `entity_id`, `actor`, `action`, `from`, `before`, `limit`, `cursor`.
    func audit(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var query = AuditQuery()
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (name, value) in request.uri.queryParameters {
            let key = String(name)
            let text = String(value)
            let path = "$.query.\(key.prefix(64))"
            guard seen.insert(key).inserted else {
                errors.append(FieldError(path: path, message: "given more than once"))
                continue
            }
            switch key {
            case "entity_type", "entity_id", "actor", "action":
                guard (1...256).contains(text.utf8.count) else {
                    errors.append(FieldError(path: path, message: "must be 1 to 256 bytes"))
                    continue
                }
                switch key {
                case "entity_type": query.entityType = text
                case "entity_id": query.entityID = text
                case "actor": query.actor = text
                default: query.action = text
                }
            case "from", "before":
                guard case .success(let micros) = RFC3339.parse(text) else {
                    errors.append(
                        FieldError(path: path, message: "must be an RFC 3339 time such as 2026-11-22T10:00:00Z"))
                    continue
                }
                if key == "from" { query.fromMicros = micros } else { query.beforeMicros = micros }
            case "limit":
                if let limit = Int(text), (1...RecordReader.maxPageSize).contains(limit) {
                    query.limit = limit
                } else {
                    errors.append(
                        FieldError(path: path, message: "must be a whole number from 1 to \(RecordReader.maxPageSize)"))
                }
            case "cursor":
                if let id = Int64(text), id > 0 {
                    query.beforeID = id
                } else {
                    errors.append(FieldError(path: path, message: "is not a cursor this server issued"))
                }
            default:
                errors.append(
                    FieldError(
                        path: path,
                        message:
                            "unknown query parameter; known: entity_type, entity_id, actor, action, from, before, "
                            + "limit, cursor"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return JSONResponse.make(try await review.audit(query), request: request, compressible: true)
    }
}
