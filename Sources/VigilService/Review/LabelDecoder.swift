import VigilCore
import VigilStore

/// A label as sent: to `POST /v1/transactions/{id}/labels` (no `transaction_id`) or as one line of
/// `POST /v1/labels/batch` (with it).
public struct LabelInput: Sendable, Equatable {
    public var transactionID: String?
    public var label: LabelValue
    public var source: LabelSource
    public var reasonCode: String?
    public var note: String?
    /// Nil: now.
    public var labeledAtMicros: Int64?
}

/// Decodes and validates one label object, listing every bad field by JSON path.
public enum LabelDecoder {
    public static let maxNoteLength = 2_000
    public static let maxReasonCodeLength = 64

    public static func decode(
        _ bytes: UnsafeRawBufferPointer, requireTransactionID: Bool
    ) throws(ServiceError) -> LabelInput {
        var scanner = JSONScanner(bytes)
        var errors: [FieldError] = []
        var transactionID: String?
        var label: LabelValue?
        var source: LabelSource?
        var reasonCode: String?
        var note: String?
        var labeledAt: Int64?
        var seen: Set<String> = []
        do {
            try scanner.beginObject()
            var first = true
            while let span = try scanner.nextObjectKey(isFirst: &first) {
                let key = scanner.string(span)
                let path = "$.\(key.prefix(64))"
                guard seen.insert(key).inserted else {
                    errors.append(FieldError(path: path, message: "is given more than once"))
                    try scanner.skipValue()
                    continue
                }
                let value = try scanner.readValue()
                let text: String? = if case .string(let span) = value { scanner.string(span) } else { nil }
                let isNull = value == .null
                switch key {
                case "transaction_id" where requireTransactionID:
                    if let text, (1...128).contains(text.utf8.count) {
                        transactionID = text
                    } else {
                        errors.append(FieldError(path: path, message: "must be a string of 1 to 128 characters"))
                    }
                case "label":
                    label = text.flatMap(LabelValue.init(rawValue:))
                    if label == nil { errors.append(FieldError(path: path, message: "must be \"fraud\" or \"legit\"")) }
                case "source":
                    source = text.flatMap(LabelSource.init(rawValue:))
                    if source == nil {
                        errors.append(
                            FieldError(
                                path: path,
                                message: "must be one of review, chargeback, customer_report, issuer_alert, other"))
                    }
                case "reason_code":
                    if isNull { continue }
                    if let text, (1...maxReasonCodeLength).contains(text.utf8.count) {
                        reasonCode = text
                    } else {
                        errors.append(
                            FieldError(path: path, message: "must be a string of 1 to \(maxReasonCodeLength) bytes"))
                    }
                case "note":
                    if isNull { continue }
                    if let text, text.utf8.count <= maxNoteLength {
                        note = text
                    } else {
                        errors.append(
                            FieldError(path: path, message: "must be a string of at most \(maxNoteLength) bytes"))
                    }
                case "labeled_at":
                    if isNull { continue }
                    if let text, case .success(let micros) = RFC3339.parse(text) {
                        labeledAt = micros
                    } else {
                        errors.append(
                            FieldError(path: path, message: "must be an RFC 3339 time such as 2026-11-22T10:00:00Z"))
                    }
                default:
                    errors.append(FieldError(path: path, message: "is not a known field"))
                }
            }
            try scanner.expectEnd()
        } catch {
            throw .malformed(FieldError(path: "$", message: "malformed JSON: \(error)"))
        }
        if requireTransactionID, transactionID == nil, !seen.contains("transaction_id") {
            errors.append(FieldError(path: "$.transaction_id", message: "is required"))
        }
        if label == nil, !seen.contains("label") { errors.append(FieldError(path: "$.label", message: "is required")) }
        if source == nil, !seen.contains("source") {
            errors.append(FieldError(path: "$.source", message: "is required"))
        }
        guard errors.isEmpty, let label, let source else { throw .validation(errors) }
        return LabelInput(
            transactionID: transactionID, label: label, source: source, reasonCode: reasonCode, note: note,
            labeledAtMicros: labeledAt)
    }
}
