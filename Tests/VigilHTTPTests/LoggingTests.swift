import Foundation
import Logging
import Testing

@testable import VigilHTTP

@Suite("JSON logs")
struct LoggingTests {
    @Test("API keys and e-mail addresses are masked")
    func redaction() {
        #expect(
            Redaction.redact("key Bearer vgl_abcdefghijklmnop for alice@example.com")
                == "key Bearer vgl_[redacted] for a***@example.com")
        #expect(Redaction.redact("plain text, no secrets") == "plain text, no secrets")
        #expect(Redaction.mayContainSecret("vgvgl_x"))
        #expect(!Redaction.mayContainSecret("vg l_"))
    }

    @Test("a log record is one JSON line with level, message and metadata, secrets masked")
    func jsonLine() throws {
        // Given a handler writing to a pipe
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let sink = LogSink(fileDescriptor: descriptors[1])
        var logger = Logger(label: "test") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        logger[metadataKey: "service"] = "vigil"
        // When a record with a key and an e-mail in its metadata is logged and flushed
        logger.info(
            "request", metadata: ["route": "/v1/score", "who": "vgl_secretsecretsecret", "email": "bob@example.com"])
        logger.debug("not at this level")
        sink.flush()
        close(descriptors[1])
        let data = FileHandle(fileDescriptor: descriptors[0]).readDataToEndOfFile()
        // Then it is exactly one parseable line with the secrets masked
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["msg"] as? String == "request")
        #expect(object["route"] as? String == "/v1/score")
        #expect(object["service"] as? String == "vigil")
        #expect(object["who"] as? String == "vgl_[redacted]")
        #expect(object["email"] as? String == "b***@example.com")
        #expect(!lines[0].contains("secretsecret"))
    }
}
