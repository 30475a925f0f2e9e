import VigilCore

/// A JSON string literal for `text`, escaped.
func jsonString(_ text: String) -> String {
    var writer = JSONWriter()
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
}

/// The strings of a JSON array of strings as written by `ModelRegistryStore.jsonArray`; empty if malformed.
func parseJSONStrings(_ json: String) -> [String] {
    var utf8 = Array(json.utf8)
    return utf8.withUnsafeMutableBytes { raw -> [String] in
        var scanner = JSONScanner(UnsafeRawBufferPointer(raw))
        var strings: [String] = []
        do {
            try scanner.beginArray()
            var first = true
            while try scanner.nextArrayElement(isFirst: &first) { strings.append(try scanner.readString()) }
            try scanner.expectEnd()
        } catch {
            return []
        }
        return strings
    }
}
