import Foundation
import Logging
import Synchronization
import VigilCore

/// Writes log records as JSON lines to standard output, buffered, with secrets redacted.
///
/// Lines are buffered and flushed every 250 ms, when the buffer passes 32 KiB, and at once for
/// warnings and worse; `LogSink.shared.flush()` runs at shutdown.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level, sink: LogSink = .shared) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer = JSONWriter(reservingCapacity: 320)
        writer.objectStart()
        writer.key("ts")
        writer.string(formatRFC3339(micros: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())))
        writer.key("level")
        writer.string(event.level.rawValue)
        writer.key("logger")
        writer.string(label)
        writer.key("msg")
        writer.string(Redaction.redact(event.message.description))
        // The handler's metadata, then the event's (which wins on a shared key), each in key order.
        let extra = event.metadata ?? [:]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where extra[key] == nil {
            writer.key(key)
            writer.string(Redaction.redact(value.description))
        }
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.string(Redaction.redact(value.description))
        }
        writer.objectEnd()
        var line = writer.bytes
        line.append(10)
        sink.write(line, flushNow: event.level >= .warning)
    }
}

/// Buffered standard output shared by every log handler.
public final class LogSink: Sendable {
    public static let shared = LogSink(fileDescriptor: 1)
    private let buffer = Mutex<[UInt8]>([])
    private let fileDescriptor: Int32

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    func write(_ line: [UInt8], flushNow: Bool) {
        let full = buffer.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: line)
            guard flushNow || buffer.count >= 32_768 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full { emit(full) }
    }

    public func flush() {
        let pending = buffer.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !pending.isEmpty { emit(pending) }
    }

    private func emit(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Masks API keys and e-mail addresses in text bound for logs.
public enum Redaction {
    public static func redact(_ text: String) -> String {
        guard mayContainSecret(text) else { return text }
        var words: [Substring] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if let start = word.utf8.firstRange(of: "vgl_".utf8)?.lowerBound {
                words.append(word[..<start] + "vgl_[redacted]")
            } else if let at = word.firstIndex(of: "@"), at != word.startIndex {
                words.append(word[word.startIndex...word.startIndex] + "***" + word[at...])
            } else {
                words.append(word)
            }
        }
        return words.joined(separator: " ")
    }

    /// A byte scan for `@` or `vgl_`, so clean text (nearly all of it) costs one pass and no allocation.
    static func mayContainSecret(_ text: String) -> Bool {
        var matched = 0
        let marker: [UInt8] = [118, 103, 108, 95]
        for byte in text.utf8 {
            if byte == 64 { return true }
            if byte == marker[matched] {
                matched += 1
                if matched == 4 { return true }
            } else {
                matched = byte == marker[0] ? 1 : 0
            }
        }
        return false
    }
}
