import Testing

@testable import VigilCore

@Suite("JSON writer")
struct JSONWriterTests {
    private func text(_ build: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        build(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("commas are placed between members and elements, at every depth")
    func structure() {
        // Given nested objects and arrays with several members
        // When they are written
        let json = text { writer in
            writer.objectStart()
            writer.key("a")
            writer.int(1)
            writer.key("b")
            writer.arrayStart()
            writer.bool(true)
            writer.null()
            writer.objectStart()
            writer.objectEnd()
            writer.arrayStart()
            writer.arrayEnd()
            writer.string("x")
            writer.arrayEnd()
            writer.key("c")
            writer.objectStart()
            writer.key("d")
            writer.number(1.5)
            writer.objectEnd()
            writer.objectEnd()
        }
        // Then the text is compact JSON with commas exactly where they belong
        #expect(json == #"{"a":1,"b":[true,null,{},[],"x"],"c":{"d":1.5}}"#)
    }

    @Test(
        "strings escape quotes, backslashes and control characters and keep other UTF-8",
        arguments: [
            ("plain", #""plain""#),
            ("", #""""#),
            ("say \"hi\"", #""say \"hi\"""#),
            ("back\\slash", #""back\\slash""#),
            ("a/b", #""a/b""#),
            ("line\nbreak\ttab\r", #""line\u000abreak\u0009tab\u000d""#),
            ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
            ("\u{7F}", "\"\u{7F}\""),
            ("é€😀", "\"é€😀\""),
            ("\u{2028}", "\"\u{2028}\""),
        ])
    func escapes(value: String, expected: String) {
        // Given a string with characters JSON must or need not escape
        // When it is written
        let json = text { $0.string(value) }
        // Then only quote, backslash and C0 controls are escaped
        #expect(json == expected)
    }

    @Test("keys are escaped like strings")
    func keyEscapes() {
        // Given a key with a quote and a control character
        // When it is written in an object
        let json = text { writer in
            writer.objectStart()
            writer.key("a\"\u{1}")
            writer.int(0)
            writer.objectEnd()
        }
        // Then it is escaped
        #expect(json == #"{"a\"\u0001":0}"#)
    }

    @Test(
        "numbers use the shortest round-trip text",
        arguments: [
            (12.5, "12.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (2480.0, "2480.0"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (1e22, "1e+22"),
            (.leastNonzeroMagnitude, "5e-324"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        ])
    func numbers(value: Double, expected: String) {
        // Given a finite Double
        // When it is written
        let json = text { $0.number(value) }
        // Then the text is Swift's shortest round-trip form, which is valid JSON
        #expect(json == expected)
    }

    @Test("non-finite numbers are written as null", arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(value: Double) {
        // Given NaN or an infinity
        // When it is written in an array
        let json = text { writer in
            writer.arrayStart()
            writer.number(value)
            writer.int(1)
            writer.arrayEnd()
        }
        // Then it is null, so the document stays valid JSON
        #expect(json == "[null,1]")
    }

    @Test(
        "integers are written in decimal",
        arguments: [
            (0, "0"), (-1, "-1"), (42, "42"), (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
        ]
    )
    func integers(value: Int, expected: String) {
        // Given an integer
        // When it is written
        let json = text { $0.int(value) }
        // Then it is its decimal text
        #expect(json == expected)
    }

    @Test("optional values write null when absent, and raw JSON is spliced as a value")
    func optionalsAndRaw() {
        // Given absent and present optionals and a pre-encoded value
        // When they are written as members
        let json = text { writer in
            writer.objectStart()
            writer.key("a")
            writer.optionalString(nil)
            writer.key("b")
            writer.optionalString("x")
            writer.key("c")
            writer.optionalNumber(nil)
            writer.key("d")
            writer.optionalNumber(2.5)
            writer.key("e")
            writer.raw(Array(#"{"k":[1,2]}"#.utf8))
            writer.key("f")
            writer.optionalInt(7)
            writer.objectEnd()
        }
        // Then each is in place, separated by commas
        #expect(json == #"{"a":null,"b":"x","c":null,"d":2.5,"e":{"k":[1,2]},"f":7}"#)
    }

    @Test("every string written reads back unchanged")
    func stringRoundTrip() throws {
        // Given seeded random strings over ASCII, controls and multi-byte characters
        var random = SplitMix64(seed: 8259)
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1F}", "\n", "\u{7F}", "é", "€", "😀",
        ]
        for _ in 0..<2_000 {
            var value = ""
            for _ in 0..<Int.random(in: 0...24, using: &random) {
                value.unicodeScalars.append(alphabet[Int.random(in: 0..<alphabet.count, using: &random)])
            }
            // When it is written and scanned back
            var writer = JSONWriter()
            writer.string(value)
            let decoded = try writer.bytes.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                let result = try scanner.readString()
                try scanner.expectEnd()
                return result
            }
            // Then it is the same string
            #expect(decoded == value)
        }
    }

    @Test("every finite number written reads back bit for bit")
    func numberRoundTrip() throws {
        // Given seeded random bit patterns taken as Doubles
        var random = SplitMix64(seed: 754)
        for _ in 0..<20_000 {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            // When it is written and scanned back
            var writer = JSONWriter()
            writer.number(value)
            let decoded = try writer.bytes.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                return try scanner.readNumber()
            }
            // Then the bits are the same
            #expect(decoded.bitPattern == value.bitPattern)
        }
    }
}
