import Foundation
import HTTPTypes
import Hummingbird
import VigilService
import VigilStore

/// Health, readiness, metrics and the API description: no key needed (metrics may require one).
struct OpsController {
    let runtime: VigilRuntime
    let metrics: VigilMetrics

    func health(_ request: Request, context: VigilRequestContext) -> Response {
        JSONResponse.make(Array(#"{"status":"ok"}"#.utf8), request: request)
    }

    /// Ready when the database answers reads, a write could start, the last commit (or a probe write after
    /// it failed) went through, and a model is loaded (the runtime does not start without one).
    func ready(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let readable = await runtime.store.isReadable()
        let writable = await runtime.store.canBeginWrite()
        // After a failed commit (a full disk, say), readiness writes one row to see whether writes go through
        // again: a load balancer that stopped sending traffic would otherwise never see the service recover.
        let committing = runtime.store.isWritable ? true : await runtime.store.probeWrite()
        guard readable, writable, committing else {
            let failing = [
                readable ? nil : "the database is not readable", writable ? nil : "a write cannot start",
                committing ? nil : "the last commit failed",
            ]
            throw Problem.unavailable("not ready: " + failing.compactMap { $0 }.joined(separator: "; "))
        }
        return JSONResponse.make(
            Array(#"{"status":"ready","checks":{"database":"ok","model":"ok"}}"#.utf8), request: request)
    }

    func metricsText(_ request: Request, context: VigilRequestContext) async throws -> Response {
        if runtime.config.metricsRequireKey, RoleMiddleware.principal(request, runtime.authenticator) == nil {
            throw Problem.unauthorized
        }
        // The review gauges are read when scraped; label maturity scans every payment, so at most once a minute.
        let now = runtime.review.clock.nowMicros()
        let withMaturity = metrics.isMaturityDue(nowMicros: now)
        if let stats = try? await runtime.review.store.stats(nowMicros: now, maturityDays: withMaturity ? 30 : nil) {
            metrics.recordReview(stats)
        }
        metrics.recordWorker(runtime.worker.jobCounters)
        return JSONResponse.make(
            metrics.render(), request: request, contentType: "text/plain; version=0.0.4; charset=utf-8",
            compressible: true)
    }

    func openAPI(_ request: Request, context: VigilRequestContext) -> Response {
        JSONResponse.make(
            Array(OpenAPISpec.yaml.utf8), request: request, contentType: "application/yaml", compressible: true)
    }
}
