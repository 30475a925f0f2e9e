import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `vigil` binary run as a child process, for tests that kill and restart it.
final class ServerProcess: Sendable {
    let process: Process
    let port: Int
    /// Keys printed on first start, by role (empty on a restart).
    let keys: [String: String]
    private let output: Mutex<String>

    /// The built `vigil` executable: beside the test bundle, or `VIGIL_BINARY`.
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["VIGIL_BINARY"] { return URL(fileURLWithPath: path) }
        let me = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0])
        var directory = me.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("vigil")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw ServerError.message("vigil binary not found near \(me.path); set VIGIL_BINARY")
    }

    enum ServerError: Error { case message(String) }

    /// Starts `vigil serve` in `directory` (no config file there: embedded defaults) and waits until it listens.
    static func start(
        directory: URL, database: String, environment extra: [String: String] = [:]
    ) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["serve", "--database", database, "--port", "0"]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VIGIL_") }
        environment["VIGIL_LOG_REQUESTS"] = "false"
        environment.merge(extra) { $1 }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let reader = pipe.fileHandleForReading
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty {
                if !process.isRunning { break }
                continue
            }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last!)!
                var keys: [String: String] = [:]
                for line in text.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    if parts.count == 2, ["scoring", "review", "admin"].contains(String(parts[0])),
                        parts[1].hasPrefix("vgl_")
                    {
                        keys[String(parts[0])] = String(parts[1])
                    }
                }
                let server = ServerProcess(process: process, port: port, keys: keys, output: text)
                reader.readabilityHandler = { handle in
                    let more = handle.availableData
                    server.output.withLock { $0 += String(decoding: more, as: UTF8.self) }
                }
                return server
            }
        }
        process.terminate()
        throw ServerError.message("server did not start: \(text)")
    }

    private init(process: Process, port: Int, keys: [String: String], output: String) {
        self.process = process
        self.port = port
        self.keys = keys
        self.output = Mutex(output)
    }

    var log: String { output.withLock { $0 } }

    func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end and returns its exit status.
    func waitForExit(timeout: TimeInterval = 30) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { throw ServerError.message("server did not exit") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    func request(_ method: String, _ path: String, key: String?, body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

func transactionBody(_ id: String, amount: Int) -> String {
    #"{"transaction_id":"\#(id)","occurred_at":"2026-11-22T10:00:00Z","amount":\#(amount),"currency":"EUR","card_country":"US","merchant_country":"DE","ip_country":"US","channel":"ecommerce"}"#
}
