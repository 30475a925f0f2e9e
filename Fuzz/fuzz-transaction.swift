import VigilCore

/// libFuzzer entry: any bytes as a `POST /v1/score` body. The decoder must answer a transaction or a list of
/// field errors, never crash, and a transaction it accepts must survive its own canonical JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch TransactionDecoder.decode(bytes) {
    case .success(let transaction):
        let canonical = transaction.canonicalJSON()
        guard case .success(let again) = TransactionDecoder.decode(canonical) else {
            fatalError(
                "an accepted transaction's canonical JSON is refused: \(String(decoding: canonical, as: UTF8.self))")
        }
        precondition(again.canonicalJSON() == canonical, "canonical JSON is not stable")
    case .failure(let refusal):
        precondition(!refusal.errors.isEmpty, "a refusal without a field error")
    }
    return 0
}
