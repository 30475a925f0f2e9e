import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The outermost middleware: request id, problem+json for every failure, metrics and one log line.
///
/// Errors are turned into answers here and nowhere else, so metrics and logs see the real status.
struct RequestObservationMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext

    let metrics: VigilMetrics
    let logger: Logger
    let logRequests: Bool
    let routes: KnownRoutes
    private let ids = RequestIDGenerator()

    init(metrics: VigilMetrics, logger: Logger, logRequests: Bool, routes: KnownRoutes) {
        self.metrics = metrics
        self.logger = logger
        self.logRequests = logRequests
        self.routes = routes
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = ids.next(incoming: request.headers[.xRequestID])
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The router found no handler: a known path with another method is 405, anything else 404.
            if let allowed = routes.methods(forPath: request.uri.path) {
                response = Problem.methodNotAllowed(request.method, allowed: allowed).response(
                    instance: request.uri.path)
            } else {
                response = Problem.notFound("no route matches this path").response(instance: request.uri.path)
            }
        } catch {
            if let problem = Problem.from(error) {
                response = problem.response(instance: request.uri.path)
            } else {
                logger.error(
                    "unhandled error", metadata: ["request_id": .string(context.requestID), "error": "\(error)"])
                response = Problem.internalError.response(instance: request.uri.path)
            }
        }
        response.headers[.xRequestID] = context.requestID
        let latency = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let status = Int(response.status.code)
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status, latency: latency)
        if logRequests {
            logger.info(
                "request",
                metadata: [
                    "request_id": .string(context.requestID), "method": .string(request.method.rawValue),
                    "route": .string(route), "status": .stringConvertible(status),
                    "latency_ms": .string(Self.milliseconds(latency)),
                ])
        }
        return response
    }

    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let fraction = micros % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(micros / 1000).\(padded)"
    }
}

/// Request ids: the caller's `X-Request-Id` when it is short and plain, else a process prefix and a counter.
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        prefix = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
    }

    func next(incoming: String?) -> String {
        if let incoming, (1...64).contains(incoming.utf8.count),
            incoming.utf8.allSatisfy({
                $0 == 45 || $0 == 95 || $0 == 46 || (48...57).contains($0) || (65...90).contains($0)
                    || (97...122).contains($0)
            })
        {
            return incoming
        }
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(value, radix: 16))"
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
