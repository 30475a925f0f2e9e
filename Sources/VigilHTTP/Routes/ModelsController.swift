import Foundation
import Hummingbird
import NIOCore
import VigilCore
import VigilService
import VigilStore

/// The model registry routes: upload, list, a version's page, promote, roll back, clear the challenger.
struct ModelsController {
    let registry: ModelRegistry
    let pages: ModelPages
    let maxUploadBytes: Int
    /// Watches promotions to champion (the blast-radius guard).
    let rateGuard: BlastRadiusGuard?
    let clock: any WallClock

    /// `POST /v1/models?name=…&format=…` with the file as the body.
    func upload(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var errors: [FieldError] = []
        let parameters = request.uri.queryParameters
        let name = parameters["name"].map(String.init)
        let formatText = parameters["format"].map(String.init)
        if name == nil { errors.append(FieldError(path: "$.query.name", message: "is required")) }
        let format = formatText.flatMap(ModelFormat.init(rawValue:))
        if format == nil {
            let allowed = ModelFormat.allCases.map(\.rawValue).joined(separator: ", ")
            errors.append(
                FieldError(
                    path: "$.query.format",
                    message: formatText == nil ? "is required (\(allowed))" : "must be one of \(allowed)"))
        }
        guard errors.isEmpty, let name, let format else { throw ServiceError.validation(errors) }
        var body = try await RequestBodyReader.body(request, limit: maxUploadBytes)
        let file = body.readBytes(length: body.readableBytes) ?? []
        guard !file.isEmpty else {
            throw ServiceError.validation([FieldError(path: "$", message: "the body must be the model file")])
        }
        let stored = try await registry.upload(name: name, format: format, file: file, by: Self.actor(context))
        var response = JSONResponse.make(try await pages.summary(stored), request: request)
        response.status = .created
        response.headers[.location] = "/v1/models/\(stored.key.name)/versions/\(stored.key.version)"
        return response
    }

    func list(_ request: Request, context: VigilRequestContext) async throws -> Response {
        JSONResponse.make(try await pages.list(), request: request, compressible: true)
    }

    func version(_ request: Request, context: VigilRequestContext) async throws -> Response {
        JSONResponse.make(try await pages.version(try Self.key(context)), request: request, compressible: true)
    }

    /// `POST /v1/models/{name}/versions/{version}/promote` with `{"alias": "champion" | "challenger"}`.
    func promote(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let key = try Self.key(context)
        let body = try await RequestBodyReader.jsonBody(request, limit: 4096)
        let alias = try Self.alias(in: body)
        try await registry.promote(key, to: alias, by: Self.actor(context))
        if alias == .champion {
            rateGuard?.watchChampion(
                description: "model \(key.name) version \(key.version) promoted to champion",
                nowMicros: clock.nowMicros())
        }
        return try await aliasesAnswer(request)
    }

    /// `POST /v1/models/aliases/{alias}/rollback`.
    func rollback(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await registry.rollback(try Self.pathAlias(context), by: Self.actor(context))
        return try await aliasesAnswer(request)
    }

    /// `DELETE /v1/models/aliases/challenger`.
    func clearChallenger(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await registry.clearChallenger(by: Self.actor(context))
        return try await aliasesAnswer(request)
    }

    private func aliasesAnswer(_ request: Request) async throws -> Response {
        JSONResponse.make(try await pages.aliases(), request: request)
    }

    static func actor(_ context: VigilRequestContext) -> String {
        context.principal.map { "\($0.name) (\($0.keyID))" } ?? "unknown"
    }

    static func key(_ context: VigilRequestContext) throws -> ModelKey {
        let name = try context.parameters.require("name")
        let versionText = try context.parameters.require("version")
        guard let version = Int(versionText), version >= 1 else {
            throw Problem.notFound("no model \(name.prefix(64)) version \(versionText.prefix(20))")
        }
        return ModelKey(name: name, version: version)
    }

    static func pathAlias(_ context: VigilRequestContext) throws -> ModelAlias {
        let text = try context.parameters.require("alias")
        guard let alias = ModelAlias(rawValue: text) else {
            throw Problem.notFound("no alias \(text.prefix(64)); the aliases are champion and challenger")
        }
        return alias
    }

    /// The `alias` field of a promote body.
    static func alias(in body: ByteBuffer) throws -> ModelAlias {
        let message = "must be \"champion\" or \"challenger\""
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        } catch {
            throw Problem.malformed(FieldError(path: "$", message: "malformed JSON"))
        }
        guard let fields = object as? [String: Any] else {
            throw ServiceError.validation([FieldError(path: "$", message: "must be an object with an alias")])
        }
        let unknown = fields.keys.filter { $0 != "alias" }.sorted()
        var errors = unknown.map { FieldError(path: "$.\($0.prefix(64))", message: "is not a known field") }
        let alias = (fields["alias"] as? String).flatMap(ModelAlias.init(rawValue:))
        if alias == nil {
            errors.append(
                FieldError(path: "$.alias", message: fields["alias"] == nil ? "is required; \(message)" : message))
        }
        guard errors.isEmpty, let alias else { throw ServiceError.validation(errors) }
        return alias
    }
}
