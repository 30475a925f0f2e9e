import Hummingbird
import VigilCore
import VigilService

/// `POST /v1/score`: decode, score, answer; nothing else.
struct ScoreController {
    let scoring: ScoringService
    let metrics: VigilMetrics
    let maxBodyBytes: Int

    func score(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await RequestBodyReader.jsonBody(request, limit: maxBodyBytes)
        let transaction = try body.withUnsafeReadableBytes { bytes throws(ServiceError) in
            try scoring.decode(body: bytes)
        }
        let answer = try await scoring.score(transaction, explain: try Self.explainMode(request))
        if let decision = answer.decision {
            metrics.recordDecision(decision, openedCase: answer.openedCase)
            if let agreed = answer.shadowAgreed { metrics.recordShadow(agreed: agreed) }
        } else {
            metrics.recordReplay()
        }
        return JSONResponse.make(answer.json, request: request)
    }

    /// `?explain=true` asks for reasons on every decision; without it only review and decline carry them.
    static func explainMode(_ request: Request) throws -> ExplainMode {
        guard let query = request.uri.query, !query.isEmpty else { return .whenFlagged }
        var mode = ExplainMode.whenFlagged
        var errors: [FieldError] = []
        for (name, value) in request.uri.queryParameters {
            switch (String(name), String(value)) {
            case ("explain", "true"): mode = .always
            case ("explain", "false"): mode = .whenFlagged
            case ("explain", _): errors.append(FieldError(path: "$.query.explain", message: "must be true or false"))
            case (let other, _):
                errors.append(FieldError(path: "$.query.\(other.prefix(64))", message: "is not a known parameter"))
            }
        }
        guard errors.isEmpty else { throw ServiceError.validation(errors) }
        return mode
    }
}
