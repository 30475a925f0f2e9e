import Foundation
import GRDB
import Testing

/// A small tmpfs for the database: mounting needs root (CI runs as root); elsewhere the suite is skipped.
enum SmallDisk {
    static let available: Bool = {
        guard getuid() == 0, let directory = try? temporaryDirectory() else { return false }
        defer { try? FileManager.default.removeItem(at: directory) }
        guard (try? run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", directory.path])) == 0 else {
            return false
        }
        return (try? run("/bin/umount", [directory.path])) == 0
    }()

    /// Runs a program, waits, returns its exit status.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Disk full", .enabled(if: SmallDisk.available, "mounting a tmpfs needs root"))
struct DiskFullTests {
    @Test(
        "a full disk: writes answer 503 problems, /readyz turns false, nothing is half-written, and the service resumes by itself when space returns"
    )
    func diskFull() async throws {
        // Given the database on a 16 MiB tmpfs
        let directory = try temporaryDirectory()
        let disk = directory.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        #expect(try SmallDisk.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk.path]) == 0)
        defer { _ = try? SmallDisk.run("/bin/umount", ["-l", disk.path]) }
        let database = disk.appendingPathComponent("vigil.sqlite").path
        let server = try await ServerProcess.start(directory: directory, database: database)
        defer { server.kill(SIGKILL) }  // before the tmpfs is unmounted, if the test stops early
        let scoring = try #require(server.keys["scoring"])
        let review = try #require(server.keys["review"])
        let admin = try #require(server.keys["admin"])
        var acknowledged: [String] = []
        for index in 0..<50 {
            let id = "before-\(index)"
            #expect(
                try await server.request("POST", "/v1/score", key: scoring, body: transactionBody(id, amount: 20)).0
                    == 200)
            acknowledged.append(id)
        }
        #expect(try await server.request("GET", "/readyz", key: nil).0 == 200)

        // When another file takes every byte left
        let filler = disk.appendingPathComponent("filler")
        _ = try SmallDisk.run("/bin/dd", ["if=/dev/zero", "of=\(filler.path)", "bs=64k"])
        // ... and payments keep coming (the log reuses space it already has, so the first ones may still fit)
        var refused: [String] = []
        var refusal = ""
        for index in 0..<20_000 where refused.isEmpty {
            let id = "full-\(index)"
            let (status, body) = try await server.request(
                "POST", "/v1/score", key: scoring, body: transactionBody(id, amount: 30 + index % 500))
            if status == 200 {
                acknowledged.append(id)
            } else {
                #expect(status == 503, "\(body)")
                refused.append(id)
                refusal = body
            }
        }
        // Then a write is refused with a 503 problem that says the change was not stored
        try #require(!refused.isEmpty, "no write failed on a full disk")
        #expect(refusal.contains(#""status":503"#) && refusal.contains("could not be stored"), "\(refusal)")
        let label = try await server.request(
            "POST", "/v1/transactions/before-0/labels", key: review, body: #"{"label":"fraud","source":"chargeback"}"#)
        #expect(label.0 == 503, "\(label.1)")
        // ... readiness is false, and reads still work
        let notReady = try await server.request("GET", "/readyz", key: nil)
        #expect(notReady.0 == 503 && notReady.1.contains("not ready"), "\(notReady.1)")
        #expect(try await server.request("GET", "/v1/transactions/before-1", key: admin).0 == 200)
        #expect(try await server.request("GET", "/healthz", key: nil).0 == 200)

        // When space returns, readiness comes back by itself (no payment in between) and writes go through
        try FileManager.default.removeItem(at: filler)
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try await server.request("GET", "/readyz", key: nil).0 == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "not ready 10 s after space returned")
        for index in 0..<50 {
            let id = "after-\(index)"
            #expect(
                try await server.request("POST", "/v1/score", key: scoring, body: transactionBody(id, amount: 40)).0
                    == 200)
            acknowledged.append(id)
        }
        let relabel = try await server.request(
            "POST", "/v1/transactions/before-0/labels", key: review, body: #"{"label":"fraud","source":"chargeback"}"#)
        #expect(relabel.0 == 201, "\(relabel.1)")
        server.kill(SIGTERM)
        #expect(try await server.waitForExit() == 0)

        // Every acknowledged payment is stored, none refused is, and SQLite's check passes
        let check = try DatabaseQueue(path: database)
        let stored = try await check.read { db in
            Set(try String.fetchAll(db, sql: "SELECT transaction_id FROM transactions"))
        }
        #expect(
            Set(acknowledged).isSubset(of: stored), "lost: \(Set(acknowledged).subtracting(stored).sorted().prefix(5))")
        #expect(stored.isDisjoint(with: refused), "a refused payment was stored")
        #expect(try await check.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        let labels = try await check.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels WHERE transaction_id = 'before-0'")
        }
        #expect(labels == 1, "the refused label was half-kept or the later one lost")
        try check.close()
    }
}
