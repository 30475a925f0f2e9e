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

    /// Ready when the database answers reads, the last commit went through and a model is loaded.
    func ready(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let readable = await runtime.store.isReadable()
        let writable = runtime.store.isWritable
        guard readable, writable else {
            let failing = [readable ? nil : "database is not readable", writable ? nil : "the last write failed"]
            throw Problem.unavailable("not ready: " + failing.compactMap { $0 }.joined(separator: "; "))
        }
        return JSONResponse.make(
            Array(#"{"status":"ready","checks":{"database":"ok","model":"ok"}}"#.utf8), request: request)
    }

    func metricsText(_ request: Request, context: VigilRequestContext) throws -> Response {
        if runtime.config.metricsRequireKey, RoleMiddleware.principal(request, runtime.authenticator) == nil {
            throw Problem.unauthorized
        }
        return JSONResponse.make(
            metrics.render(), request: request, contentType: "text/plain; version=0.0.4; charset=utf-8",
            compressible: true)
    }

    func openAPI(_ request: Request, context: VigilRequestContext) -> Response {
        JSONResponse.make(
            Array(OpenAPISpec.yaml.utf8), request: request, contentType: "application/yaml", compressible: true)
    }
}
