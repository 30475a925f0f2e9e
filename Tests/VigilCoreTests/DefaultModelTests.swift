import Testing

@testable import VigilCore

@Suite("The embedded default model")
struct DefaultModelTests {
    @Test("every feature of the default model is a known built-in feature")
    func knownFeatures() throws {
        let names = try #require(
            DefaultModel.json.split(separator: "\"name\": \"").dropFirst(2).map { $0.prefix { $0 != "\"" } })
        for name in names { #expect(FeatureKind(name: String(name)) != nil, "\(name)") }
    }
}
