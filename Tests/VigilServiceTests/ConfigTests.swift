import Foundation
import Testing
import VigilCore

@testable import VigilService

typealias VigilCoreLogistic = LogisticModel

@Suite("Configuration")
struct ConfigTests {
    func writeFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("flags beat the environment, which beats the file, which beats the defaults")
    func precedence() throws {
        // Given a file setting port, host and review threshold, the environment the port and host, a flag the port
        let file = try writeFile("server:\n  port: 9001\n  host: 0.0.0.0\ndecision:\n  review_at: 30\n")
        let (config, read) = try ConfigLoader().load(
            file: file, environment: ["VIGIL_SERVER_PORT": "9002", "VIGIL_SERVER_HOST": "::1", "PATH": "/bin"],
            flags: [("server.port", "9003")])
        // Then each key takes the strongest source, the rest keep defaults
        #expect(read == file)
        #expect(config.port == 9003)
        #expect(config.host == "::1")
        #expect(config.reviewAt == 30)
        #expect(config.declineAt == 80)
        #expect(config.databasePath == "vigil.sqlite")
    }

    @Test("without a file the embedded defaults apply")
    func defaults() throws {
        let config = VigilConfig()
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.maxBodyBytes == 65_536)
        #expect(config.modelPath.isEmpty)
    }

    @Test("lists come from YAML sequences or comma-separated variables")
    func lists() throws {
        let file = try writeFile("features: [amount, log_amount]\nhigh_risk_merchant_categories:\n  - \"7995\"\n")
        let (config, _) = try ConfigLoader().load(file: file, environment: [:], flags: [])
        #expect(config.features == ["amount", "log_amount"])
        #expect(config.highRiskMerchantCategories == ["7995"])
        let (fromEnvironment, _) = try ConfigLoader().load(
            file: file, environment: ["VIGIL_FEATURES": "amount, hour_of_day"], flags: [])
        #expect(fromEnvironment.features == ["amount", "hour_of_day"])
    }

    @Test("unknown keys and bad values are refused with the key and the source named")
    func refusals() throws {
        let typo = try writeFile("server:\n  prot: 9000\n")
        #expect(throws: ConfigError.unknownKey("server.prot", source: typo)) {
            try ConfigLoader().load(file: typo, environment: [:], flags: [])
        }
        #expect(
            ConfigLoader.unknownVariables(in: [
                "VIGIL_SERVR_PORT": "1", "VIGIL_SERVER_PORT": "2", "VIGIL_CONFIG": "x", "VIGIL_KEY": "k",
                "VIGIL_URL": "u",
            ]) == ["VIGIL_SERVR_PORT"])
        #expect(throws: ConfigError.self) {
            try ConfigLoader().load(file: nil, environment: ["VIGIL_SERVER_PORT": "http"], flags: [])
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader().load(file: nil, environment: ["VIGIL_DECISION_REVIEW_AT": "90"], flags: [])
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader().load(file: "/nonexistent/vigil.yaml", environment: [:], flags: [])
        }
    }

    @Test("the shipped config/vigil.yaml loads and equals the embedded defaults except the model path")
    func shippedConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let (config, _) = try ConfigLoader().load(
            file: root.appendingPathComponent("config/vigil.yaml").path, environment: [:], flags: [])
        var expected = VigilConfig()
        expected.modelPath = "config/models/default-logistic.json"
        #expect(config == expected)
    }

    @Test("the shipped default model file equals the embedded one")
    func shippedModel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try ModelLoader.logistic(
            json: Data(contentsOf: root.appendingPathComponent("config/models/default-logistic.json")), source: "file")
        let seed = try ModelLoader.seedFile(path: "")
        #expect(seed.source == "embedded default model")
        let embedded = try ModelLoader.logistic(json: Data(seed.bytes), source: seed.source)
        #expect(file == embedded)
    }

    @Test("a broken model file is refused with the place named")
    func brokenModel() throws {
        #expect(throws: ModelLoadError.self) { try ModelLoader.logistic(json: Data("{".utf8), source: "x") }
        do {
            _ = try ModelLoader.logistic(
                json: Data(
                    #"{"format":"vigil-logistic/1","name":"m","version":"1","intercept":0,"features":[{"name":"a","weight":"x","mean":0,"scale":1}]}"#
                        .utf8), source: "m.json")
            Issue.record("expected a refusal")
        } catch let error as ModelLoadError {
            #expect(error.description.hasPrefix("m.json: features[0].weight"))
        }
    }
}
