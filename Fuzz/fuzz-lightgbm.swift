import VigilCore

/// libFuzzer entry: any bytes as a LightGBM text model file. The importer answers a model or a clear error, never crashes;
/// a model it accepts scores a row of missing values and explains it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let model = try TreeEnsembleImport.lightgbm(text: bytes, name: "fuzz", version: "1")
        let row = [Double](repeating: .nan, count: model.featureNames.count)
        let margin = model.margin(row)
        let explanation = model.explain(row)
        precondition(margin.isNaN == explanation.margin.isNaN, "margin and explanation disagree")
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
