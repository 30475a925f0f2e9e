import VigilCore

let schema = RuleSchema(featureNames: ["amount", "log_amount", "card_id_count_1h"], listNames: ["stolen_cards"])

/// libFuzzer entry: any bytes as a rule's source. It compiles or is refused with a position; what compiles
/// evaluates on a payment without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let expression = try RuleExpression.compile(source, schema: schema)
        let body = Array(
            #"{"transaction_id":"t","occurred_at":"2026-11-22T10:00:00Z","amount":12.5,"currency":"EUR","card_id":"c","email":"A@B.example","attributes":{"x":1,"y":"s","z":true}}"#
                .utf8)
        guard case .success(let transaction) = TransactionDecoder.decode(body) else {
            fatalError("the fixed payment does not decode")
        }
        _ = expression.matches(transaction, features: [12.5, .nan, 3], lists: .empty)
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
