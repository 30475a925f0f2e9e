import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore

/// Reads a request body within limits: media type, size before and after gzip.
enum RequestBodyReader {
    static func jsonBody(_ request: Request, limit: Int) async throws -> ByteBuffer {
        guard let contentType = request.headers[.contentType] else {
            throw Problem.unsupportedMediaType("send Content-Type: application/json")
        }
        if contentType != "application/json" { try checkMediaType(contentType) }
        return try await body(request, limit: limit)
    }

    /// Any body (a model file), gzip-decoded when `Content-Encoding` says so, at most `limit` bytes either way.
    static func body(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw Problem.payloadTooLarge(limit: limit)
        }
        let isGzip = try isGzipEncoded(request)
        var body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.payloadTooLarge(limit: limit)
        }
        guard isGzip else { return body }
        do {
            return try body.decompress(with: .gzip(), maxSize: limit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw Problem.payloadTooLarge(limit: limit)
        } catch {
            throw Problem.malformed(
                FieldError(path: "$", message: "Content-Encoding is gzip but the body is not a valid gzip stream"))
        }
    }

    /// Whether the body is gzip (`Content-Encoding: gzip` or `x-gzip`); none and `identity` are plain, anything
    /// else is refused with `415`.
    static func isGzipEncoded(_ request: Request) throws -> Bool {
        let encoding = request.headers[.contentEncoding].map(normalizedEncoding)
        guard encoding == nil || encoding == "identity" || encoding == "gzip" || encoding == "x-gzip" else {
            throw Problem(
                status: .unsupportedMediaType, slug: "unsupported-encoding", title: "Unsupported content encoding",
                detail: "Content-Encoding \(encoding!.prefix(50)) is not supported; use gzip or none")
        }
        return encoding == "gzip" || encoding == "x-gzip"
    }

    /// Accepts `application/json` with any letter case, spacing and a UTF-8 charset; refuses the rest (415).
    static func checkMediaType(_ contentType: String) throws {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let mediaType = parts.first ?? ""
        guard mediaType == "application/json" else {
            throw Problem.unsupportedMediaType("Content-Type must be application/json, not \(mediaType.prefix(100))")
        }
        for parameter in parts.dropFirst() where parameter.hasPrefix("charset=") {
            let charset = parameter.dropFirst(8).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard charset == "utf-8" || charset == "utf8" else {
                throw Problem.unsupportedMediaType("JSON bodies must be UTF-8, not charset \(charset.prefix(40))")
            }
        }
    }

    /// Lower-cased, trimmed `Content-Encoding`; a plain value skips Foundation.
    static func normalizedEncoding(_ value: String) -> String {
        value == "gzip" ? value : value.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// Builds 200 answers, gzip-compressed when the caller accepts it and the route allows it.
enum JSONResponse {
    static func make(
        _ bytes: [UInt8], request: Request, contentType: String = "application/json", compressible: Bool = false
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        var buffer = ByteBuffer(bytes: bytes)
        if compressible {
            headers[.vary] = "Accept-Encoding"
            if bytes.count >= 512, Self.acceptsGzip(request), let compressed = try? buffer.compress(with: .gzip()) {
                headers[.contentEncoding] = "gzip"
                buffer = compressed
            }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// True when `Accept-Encoding` lists gzip without `q=0`.
    static func acceptsGzip(_ request: Request) -> Bool {
        guard let header = request.headers[.acceptEncoding] else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard parts.first == "gzip" || parts.first == "x-gzip" else { continue }
            let zero = parts.dropFirst().contains { parameter in
                parameter.hasPrefix("q=") && Double(parameter.dropFirst(2)) == 0
            }
            return !zero
        }
        return false
    }
}
