import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore
import VigilService

/// `POST /v1/labels/batch`: NDJSON (optionally gzip), read as it arrives.
struct LabelBatchController {
    let batch: LabelBatch

    static let mediaTypes: Set<String> = ["application/x-ndjson", "application/ndjson", "application/jsonl"]

    func post(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let contentType = request.headers[.contentType].map {
            $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        guard let contentType, Self.mediaTypes.contains(contentType) else {
            throw Problem.unsupportedMediaType("Content-Type must be application/x-ndjson (one JSON label per line)")
        }
        let isGzip = try RequestBodyReader.isGzipEncoded(request)
        var session = batch.session(recordedBy: ReviewController.reviewer(context))
        if isGzip {
            let decompressor = CompressionAlgorithm.gzip().decompressor
            decompressor.window = ByteBufferAllocator().buffer(capacity: 65_536)
            try decompressor.startStream()
            for try await chunk in request.body {
                var input = chunk
                var pieces: [ByteBuffer] = []
                do {
                    try input.decompressStream(with: decompressor) { window in pieces.append(window) }
                } catch {
                    throw Problem.malformed(
                        FieldError(
                            path: "$", message: "Content-Encoding is gzip but the body is not a valid gzip stream"))
                }
                for piece in pieces { try await session.feed(Array(piece.readableBytesView)) }
                if session.isFull { break }
            }
            try? decompressor.finishStream()
        } else {
            for try await chunk in request.body {
                try await session.feed(Array(chunk.readableBytesView))
                if session.isFull { break }
            }
        }
        return JSONResponse.make(try await session.finish(), request: request)
    }
}
