import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore
import VigilService

/// An RFC 9457 problem: every 4xx and 5xx answer of Vigil is one of these, as `application/problem+json`.
public struct Problem: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// The last part of the type URI: `https://vigil.dev/problems/<slug>`.
    public var slug: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var headers: [(HTTPField.Name, String)] = []

    public init(
        status: HTTPResponse.Status, slug: String, title: String, detail: String, errors: [FieldError] = [],
        headers: [(HTTPField.Name, String)] = []
    ) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public static func == (lhs: Problem, rhs: Problem) -> Bool {
        lhs.status == rhs.status && lhs.slug == rhs.slug && lhs.detail == rhs.detail && lhs.errors == rhs.errors
    }

    public func json(instance: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.objectStart()
        writer.key("type")
        writer.string("https://vigil.dev/problems/\(slug)")
        writer.key("title")
        writer.string(title)
        writer.key("status")
        writer.int(Int(status.code))
        writer.key("detail")
        writer.string(detail)
        writer.key("instance")
        writer.string(instance)
        if !errors.isEmpty {
            writer.key("errors")
            writer.arrayStart()
            for error in errors {
                writer.objectStart()
                writer.key("path")
                writer.string(error.path)
                writer.key("message")
                writer.string(error.message)
                writer.objectEnd()
            }
            writer.arrayEnd()
        }
        writer.objectEnd()
        return writer.bytes
    }

    public func response(instance: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        for (name, value) in headers { fields.append(HTTPField(name: name, value: value)) }
        return Response(
            status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: json(instance: instance))))
    }
}

extension Problem {
    static func validation(_ errors: [FieldError]) -> Problem {
        let summary = errors.prefix(3).map(\.description).joined(separator: "; ")
        return Problem(
            status: .badRequest, slug: "validation", title: "The request has invalid fields",
            detail: errors.count > 3 ? "\(summary); and \(errors.count - 3) more" : summary, errors: errors)
    }

    static func malformed(_ error: FieldError) -> Problem {
        Problem(
            status: .badRequest, slug: "malformed-json", title: "The body is not valid JSON", detail: error.message,
            errors: [error])
    }

    static let unauthorized = Problem(
        status: .unauthorized, slug: "unauthorized", title: "Missing or unknown API key",
        detail: "send a valid key as Authorization: Bearer <key>", headers: [(.wwwAuthenticate, "Bearer")])

    static func forbidden(role: Role, allowed: [Role]) -> Problem {
        Problem(
            status: .forbidden, slug: "forbidden", title: "This key's role may not do this",
            detail: "a key with role \(role.rawValue) cannot use this route; it needs "
                + allowed.map(\.rawValue).joined(separator: " or "))
    }

    static func notFound(_ detail: String) -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> Problem {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return Problem(
            status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
            detail: "\(method.rawValue) is not allowed here; allowed: \(allow)", headers: [(.allow, allow)])
    }

    static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            status: .contentTooLarge, slug: "payload-too-large", title: "The body is too large",
            detail: "the body (after decompression) must be at most \(limit) bytes")
    }

    static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(
            status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
            detail: detail)
    }

    static func unavailable(_ detail: String) -> Problem {
        Problem(
            status: .serviceUnavailable, slug: "service-unavailable", title: "Temporarily unavailable", detail: detail,
            headers: [(.retryAfter, "1")])
    }

    static let internalError = Problem(
        status: .internalServerError, slug: "internal", title: "Internal error",
        detail: "the server failed to answer; the request id identifies it in the logs")

    /// The one place where use-case failures become HTTP answers.
    init(_ error: ServiceError) {
        switch error {
        case .malformed(let field): self = .malformed(field)
        case .validation(let fields): self = .validation(fields)
        case .notFound(let detail): self = .notFound(detail)
        case .conflict(let detail):
            self = Problem(status: .conflict, slug: "conflict", title: "Conflict with the stored state", detail: detail)
        case .invalidModel(let detail):
            self = Problem(
                status: .unprocessableContent, slug: "invalid-model", title: "The model file cannot be used",
                detail: detail)
        case .unavailable(let detail): self = .unavailable(detail)
        }
    }

    /// Any error thrown while answering, as a problem; unknown errors are 500 and logged by the caller.
    static func from(_ error: any Error) -> Problem? {
        switch error {
        case let problem as Problem: return problem
        case let service as ServiceError: return Problem(service)
        case let http as HTTPError:
            switch http.status {
            case .badRequest: return .validation([FieldError(path: "$", message: http.body ?? "bad request")])
            default:
                return Problem(
                    status: http.status, slug: "http-\(http.status.code)", title: http.status.reasonPhrase,
                    detail: http.body ?? http.status.reasonPhrase)
            }
        default: return nil
        }
    }
}
