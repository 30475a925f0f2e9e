import Hummingbird
import VigilService

/// Exact explanations: of a stored decision, and of a what-if body that is not stored.
struct ExplainController {
    let explainer: Explainer
    let scoring: ScoringService
    let maxBodyBytes: Int

    /// `GET /v1/transactions/{id}/explanation`.
    func stored(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try ReadController.pathID(context)
        return JSONResponse.make(
            try await explainer.explanation(transactionID: id), request: request, compressible: true)
    }

    /// `POST /v1/explain`.
    func whatIf(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let body = try await RequestBodyReader.jsonBody(request, limit: maxBodyBytes)
        let transaction = try body.withUnsafeReadableBytes { bytes throws(ServiceError) in
            try scoring.decode(body: bytes)
        }
        let options = try ScoreController.options(request, allowExplain: false)
        return JSONResponse.make(
            explainer.whatIf(transaction, strength: options.strength), request: request, compressible: true)
    }
}
