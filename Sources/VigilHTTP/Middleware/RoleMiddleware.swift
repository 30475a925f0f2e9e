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
        guard let header = request.headers[.authorization], let key = bearerToken(header) else { return nil }
        return authenticator.principal(forKey: key)
    }

    /// The token of a `Bearer` credential (scheme case-insensitive), without Foundation on the hot path.
    static func bearerToken(_ header: String) -> Substring? {
        let utf8 = header.utf8
        guard utf8.count > 7, utf8.count <= 256 else { return nil }
        var index = utf8.startIndex
        for expected in "bearer ".utf8 {
            let byte = utf8[index]
            guard byte == expected || (expected != 32 && byte == expected - 32) else { return nil }
            index = utf8.index(after: index)
        }
        while index < utf8.endIndex, utf8[index] == 32 { index = utf8.index(after: index) }
        var end = utf8.endIndex
        while end > index, utf8[utf8.index(before: end)] == 32 { end = utf8.index(before: end) }
        guard index < end else { return nil }
        return header[index..<end]
    }
}
