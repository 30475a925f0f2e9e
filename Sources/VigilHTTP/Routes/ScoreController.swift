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
        let options = try Self.options(request)
        let answer = try await scoring.score(transaction, explain: options.explain, strength: options.strength)
        if let decision = answer.decision {
            metrics.recordDecision(decision, openedCase: answer.openedCase)
            if let agreed = answer.shadowAgreed { metrics.recordShadow(agreed: agreed) }
        } else {
            metrics.recordReplay()
        }
        return JSONResponse.make(answer.json, request: request)
    }

    /// `?explain=true` asks for reasons on every decision; without it only review and decline carry them.
    /// `?rule_strength=α` (0 to 1) sets how much `score` rules count against the model for this request.
    static func options(_ request: Request, allowExplain: Bool = true) throws -> (
        explain: ExplainMode, strength: Double?
    ) {
        guard let query = request.uri.query, !query.isEmpty else { return (.whenFlagged, nil) }
        var mode = ExplainMode.whenFlagged
        var strength: Double?
        var errors: [FieldError] = []
        for (name, value) in request.uri.queryParameters {
            switch (String(name), String(value)) {
            case ("explain", "true") where allowExplain: mode = .always
            case ("explain", "false") where allowExplain: mode = .whenFlagged
            case ("explain", _) where allowExplain:
                errors.append(FieldError(path: "$.query.explain", message: "must be true or false"))
            case ("rule_strength", let text):
                if let number = Double(text), number.isFinite, (0...1).contains(number) {
                    strength = number
                } else {
                    errors.append(FieldError(path: "$.query.rule_strength", message: "must be a number from 0 to 1"))
                }
            case (let other, _):
                errors.append(FieldError(path: "$.query.\(other.prefix(64))", message: "is not a known parameter"))
            }
        }
        guard errors.isEmpty else { throw ServiceError.validation(errors) }
        return (mode, strength)
    }
}
