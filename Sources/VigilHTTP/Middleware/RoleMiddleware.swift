import Foundation
import HTTPTypes
import Hummingbird
import VigilService

/// Lets a request through only with a valid API key of one of the route's roles (401 / 403 otherwise).
struct RoleMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext

    let authenticator: Authenticator
    let allowed: [Role]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let principal = Self.principal(request, authenticator) else { throw Problem.unauthorized }
        guard allowed.contains(principal.role) else { throw Problem.forbidden(role: principal.role, allowed: allowed) }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

    /// The caller of a request, from `Authorization: Bearer <key>`; nil when absent or unknown.
    static func principal(_ request: Request, _ authenticator: Authenticator) -> Principal? {
        guard let header = request.headers[.authorization], header.utf8.count <= 256 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return authenticator.principal(forKey: parts[1].trimmingCharacters(in: .whitespaces))
    }
}
