import VigilCore
import VigilStore

/// `POST /v1/labels/batch`: NDJSON labels applied as they stream in, ten thousand per transaction, each line
/// accepted or rejected with its line number and reason. Memory holds one chunk, one partial line and one batch,
/// whatever the size of the body.
public struct LabelBatch: Sendable {
    public static let maxLines = 100_000
    /// Lines read at most (`maxLines` outside tests).
    public let lineLimit: Int
    public static let maxLineBytes = 65_536
    public static let flushSize = 10_000
    /// Rejections listed in the answer at most (all are counted).
    public static let maxListedErrors = 1_000

    public let store: ReviewStore
    public let clock: any WallClock
    /// Counts fraud labels into history features that read them.
    public let velocity: VelocityService?

    public init(
        store: ReviewStore, clock: any WallClock, lineLimit: Int = LabelBatch.maxLines,
        velocity: VelocityService? = nil
    ) {
        self.velocity = velocity
        self.store = store
        self.clock = clock
        self.lineLimit = lineLimit
    }

    /// The running state of one batch request; feed it bytes, then finish it.
    public struct Session: Sendable {
        let batch: LabelBatch
        let recordedBy: String
        var line = 0
        var partial: [UInt8] = []
        var skippingLongLine = false
        var pending: [(line: Int, label: NewLabel, timed: Bool)] = []
        public private(set) var added = 0
        public private(set) var duplicates = 0
        public private(set) var rejected = 0
        /// True once a line past `maxLines` arrived: the rest of the body is not read.
        public private(set) var isFull = false
        public private(set) var errors: [(line: Int, reason: String)] = []

        /// Feeds the next bytes of the body.
        public mutating func feed(_ bytes: [UInt8]) async throws(ServiceError) {
            guard !isFull else { return }
            var start = 0
            while !isFull, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                take(bytes[start..<newline])
                try await endLine()
                start = newline + 1
            }
            if !isFull, start < bytes.count { take(bytes[start...]) }
        }

        /// Applies what is left and returns the answer's JSON.
        public mutating func finish() async throws(ServiceError) -> [UInt8] {
            if !isFull, !partial.isEmpty || skippingLongLine { try await endLine() }
            try await flush()
            errors.sort { $0.line < $1.line }
            var writer = JSONWriter(reservingCapacity: 256 + errors.count * 80)
            writer.objectStart()
            writer.key("lines")
            writer.int(line)
            writer.key("accepted")
            writer.int(added + duplicates)
            writer.key("added")
            writer.int(added)
            writer.key("duplicates")
            writer.int(duplicates)
            writer.key("rejected")
            writer.int(rejected)
            writer.key("errors")
            writer.arrayStart()
            for error in errors {
                writer.objectStart()
                writer.key("line")
                writer.int(error.line)
                writer.key("reason")
                writer.string(error.reason)
                writer.objectEnd()
            }
            writer.arrayEnd()
            writer.key("errors_truncated")
            writer.bool(rejected > errors.count)
            writer.key("body_truncated")
            writer.bool(isFull)
            writer.objectEnd()
            return writer.bytes
        }

        private mutating func take(_ bytes: ArraySlice<UInt8>) {
            guard !skippingLongLine else { return }
            if partial.count + bytes.count > LabelBatch.maxLineBytes {
                skippingLongLine = true
                partial.removeAll(keepingCapacity: true)
                return
            }
            partial.append(contentsOf: bytes)
        }

        private mutating func endLine() async throws(ServiceError) {
            line += 1
            defer {
                partial.removeAll(keepingCapacity: true)
                skippingLongLine = false
            }
            if skippingLongLine {
                reject("the line is longer than \(LabelBatch.maxLineBytes) bytes")
                return
            }
            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
            if partial.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                line -= 1  // blank lines (a trailing newline) are not lines
                return
            }
            guard line <= batch.lineLimit else {
                line -= 1
                isFull = true
                return
            }
            let decoded = partial.withUnsafeBytes { bytes in
                Result { () throws(ServiceError) in try LabelDecoder.decode(bytes, requireTransactionID: true) }
            }
            switch decoded {
            case .success(let input):
                pending.append(
                    (
                        line,
                        NewLabel(
                            transactionID: input.transactionID ?? "", label: input.label, source: input.source,
                            reasonCode: input.reasonCode, note: input.note,
                            labeledAtMicros: input.labeledAtMicros ?? batch.clock.nowMicros(), recordedBy: recordedBy),
                        input.labeledAtMicros != nil
                    ))
                if pending.count >= LabelBatch.flushSize { try await flush() }
            case .failure(.validation(let fields)):
                reject(fields.map(\.description).joined(separator: "; "))
            case .failure(let error):
                reject("\(error)")
            }
        }

        private mutating func reject(_ reason: String) {
            rejected += 1
            if errors.count < LabelBatch.maxListedErrors { errors.append((line, reason)) }
        }

        private mutating func flush() async throws(ServiceError) {
            guard !pending.isEmpty else { return }
            let outcomes: [ReviewStore.BatchOutcome]
            do {
                outcomes = try await batch.store.addLabels(
                    pending.map(\.label), timed: pending.map(\.timed), nowMicros: batch.clock.nowMicros())
            } catch {
                throw .unavailable(
                    "the labels from line \(pending[0].line) on could not be stored (earlier lines were): \(error)")
            }
            var frauds: [(transactionID: String, labeledAtMicros: Int64)] = []
            for (item, outcome) in zip(pending, outcomes) {
                switch outcome {
                case .added:
                    added += 1
                    if item.label.label == .fraud {
                        frauds.append((item.label.transactionID, item.label.labeledAtMicros))
                    }
                case .duplicate: duplicates += 1
                case .unknownTransaction:
                    rejected += 1
                    if errors.count < LabelBatch.maxListedErrors {
                        errors.append((item.line, "no transaction with id \(item.label.transactionID)"))
                    }
                }
            }
            pending.removeAll(keepingCapacity: true)
            if !frauds.isEmpty, let velocity = batch.velocity {
                do {
                    try await velocity.recordFraud(frauds)
                } catch {
                    throw .unavailable("the labels were stored but history features could not read them: \(error)")
                }
            }
        }
    }

    public func session(recordedBy: String) -> Session {
        Session(batch: self, recordedBy: recordedBy)
    }
}
