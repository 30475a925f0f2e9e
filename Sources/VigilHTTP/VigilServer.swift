import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VigilService

/// Assembles Vigil's HTTP application from a runtime; `vigil serve` and the tests call this.
public enum VigilServer {
    /// Every route template and its methods, for `405 Method Not Allowed` with `Allow`.
    static let routes = KnownRoutes([
        ("/healthz", [.get, .head]), ("/readyz", [.get, .head]), ("/metrics", [.get, .head]),
        ("/openapi.yaml", [.get, .head]), ("/v1/score", [.post]), ("/v1/transactions/{id}", [.get, .head]),
        ("/v1/cases", [.get, .head]), ("/v1/cases/{id}", [.get, .head]),
    ])

    /// The routes, their roles and the middleware, in one place.
    public static func buildRouter(
        runtime: VigilRuntime, metrics: VigilMetrics, logger: Logger
    ) -> Router<VigilRequestContext> {
        let router = Router(context: VigilRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(
            middleware: RequestObservationMiddleware(
                metrics: metrics, logger: logger, logRequests: runtime.config.logRequests, routes: routes))
        let ops = OpsController(runtime: runtime, metrics: metrics)
        let score = ScoreController(
            scoring: runtime.scoring, metrics: metrics, maxBodyBytes: runtime.config.maxBodyBytes)
        let read = ReadController(reader: runtime.reader)
        let auth = runtime.authenticator

        router.get("/healthz", use: ops.health)
        router.get("/readyz", use: ops.ready)
        router.get("/metrics", use: ops.metricsText)
        router.get("/openapi.yaml", use: ops.openAPI)
        router.group("/v1/score")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.scoring]))
            .post(use: score.score)
        router.group("/v1/transactions")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.scoring, .review, .admin]))
            .get("{id}", use: read.transaction)
        router.group("/v1/cases")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.review]))
            .get(use: read.cases)
            .get("{id}", use: read.caseDetail)

        return router
    }

    /// The application: HTTP server plus the runtime's background services.
    public static func buildApplication(
        runtime: VigilRuntime, metrics: VigilMetrics, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = buildRouter(runtime: runtime, metrics: metrics, logger: logger)
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(
                address: .hostname(runtime.config.host, port: runtime.config.port), serverName: "vigil",
                backlog: 1024),
            services: [runtime.authenticator, LogFlusher()],
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
