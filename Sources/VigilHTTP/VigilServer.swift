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
        ("/v1/cases", [.get, .head]), ("/v1/cases/{id}", [.get, .head]), ("/v1/explain", [.post]),
        ("/v1/transactions/{id}/explanation", [.get, .head]), ("/v1/models", [.get, .head, .post]),
        ("/v1/models/{name}/versions/{version}", [.get, .head]),
        ("/v1/models/{name}/versions/{version}/promote", [.post]), ("/v1/models/aliases/{alias}/rollback", [.post]),
        ("/v1/models/aliases/challenger", [.delete]), ("/v1/cases/next", [.get, .head]),
        ("/v1/cases/{id}/claim", [.post]), ("/v1/cases/{id}/release", [.post]),
        ("/v1/transactions/{id}/labels", [.get, .head, .post]), ("/v1/audit", [.get, .head]),
        ("/v1/labels/batch", [.post]), ("/v1/stats", [.get, .head]), ("/v1/rules", [.get, .head, .post]),
        ("/v1/rules/backtest", [.post]), ("/v1/rules/{id}", [.get, .head, .patch]),
        ("/v1/rules/{id}/versions", [.get, .head]), ("/v1/lists", [.get, .head, .post]),
        ("/v1/lists/{name}", [.get, .head, .delete]), ("/v1/lists/{name}/items", [.post]),
        ("/v1/lists/{name}/items/remove", [.post]), ("/v1/lists/{name}/items/{value}", [.delete]),
        ("/v1/alerts", [.get, .head]), ("/v1/worker", [.get, .head]), ("/v1/worker/run", [.post]),
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
        let review = ReviewController(review: runtime.review, maxBodyBytes: runtime.config.maxBodyBytes)
        let explain = ExplainController(
            explainer: runtime.explainer, scoring: runtime.scoring, maxBodyBytes: runtime.config.maxBodyBytes)
        let models = ModelsController(
            registry: runtime.registry, pages: runtime.models, maxUploadBytes: runtime.config.maxModelUploadBytes,
            rateGuard: runtime.rules.rateGuard, clock: runtime.rules.clock)
        let rules = RulesController(rules: runtime.rules, maxBodyBytes: runtime.config.maxBodyBytes)
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
            .get("{id}/explanation", use: explain.stored)
            .get("{id}/labels", use: review.labels)
        router.group("/v1/transactions")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.review]))
            .post("{id}/labels", use: review.label)
        router.group("/v1/labels/batch")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.review]))
            .post(use: LabelBatchController(batch: runtime.labelBatch).post)
        router.group("/v1/audit")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin, .review]))
            .get(use: review.audit)
        router.group("/v1/stats")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin, .review]))
            .get(use: review.stats)
        router.group("/v1/explain")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.scoring]))
            .post(use: explain.whatIf)
        router.group("/v1/models")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin]))
            .post(use: models.upload)
            .get(use: models.list)
            .get("{name}/versions/{version}", use: models.version)
            .post("{name}/versions/{version}/promote", use: models.promote)
            .post("aliases/{alias}/rollback", use: models.rollback)
            .delete("aliases/challenger", use: models.clearChallenger)
        router.group("/v1/cases")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.review]))
            .get(use: read.cases)
            .get("next", use: review.next)
            .get("{id}", use: read.caseDetail)
            .post("{id}/claim", use: review.claim)
            .post("{id}/release", use: review.release)
        router.group("/v1/rules")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin, .review]))
            .get(use: rules.list)
            .get("{id}", use: rules.rule)
            .get("{id}/versions", use: rules.versions)
        router.group("/v1/rules")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin]))
            .post(use: rules.create)
            .post("backtest", use: rules.backtest)
            .patch("{id}", use: rules.update)
        router.group("/v1/lists")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin, .review]))
            .get(use: rules.lists)
            .get("{name}", use: rules.listPage)
        router.group("/v1/lists")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin]))
            .post(use: rules.createList)
            .delete("{name}", use: rules.deleteList)
            .post("{name}/items", use: rules.addItems)
            .post("{name}/items/remove", use: rules.removeItems)
            .delete("{name}/items/{value}", use: rules.removeItem)
        router.group("/v1/alerts")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin, .review]))
            .get(use: rules.alerts)
        let worker = WorkerController(worker: runtime.worker, maxBodyBytes: runtime.config.maxBodyBytes)
        router.group("/v1/worker")
            .add(middleware: RoleMiddleware(authenticator: auth, allowed: [.admin]))
            .get(use: worker.status)
            .post("run", use: worker.run)

        return router
    }

    /// The application: HTTP server plus the runtime's background services.
    public static func buildApplication(
        runtime: VigilRuntime, metrics: VigilMetrics, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = buildRouter(runtime: runtime, metrics: metrics, logger: logger)
        let bodyTimeout = runtime.config.bodyTimeoutSeconds
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [BodyTimeoutHandler(timeout: .seconds(Int64(bodyTimeout)))],
                    idleTimeout: .seconds(Int64(runtime.config.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(runtime.config.host, port: runtime.config.port), serverName: "vigil",
                backlog: 1024),
            services: [
                runtime.authenticator, LogFlusher(), MemoryTrimmer(),
                RuleMonitor(rules: runtime.rules, logger: Logger(label: "vigil.rules")),
            ] + (runtime.config.worker.enabled ? [WorkerService(worker: runtime.worker)] : []),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
