import Hummingbird
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
        let answer = try await scoring.score(transaction)
        if let decision = answer.decision {
            metrics.recordDecision(decision, openedCase: answer.openedCase)
        } else {
            metrics.recordReplay()
        }
        return JSONResponse.make(answer.json, request: request)
    }
}
