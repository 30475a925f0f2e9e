import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection, for clients no HTTP library would be: slow, or with absurd headers.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ServerProcess.ServerError.message("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw ServerProcess.ServerError.message("connect: \(errno)")
        }
    }

    deinit { close(descriptor) }

    /// Sends the bytes; false once the peer has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Whether the server closed the connection: end of stream or reset, seen without waiting.
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let received = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if received == 0 { return true }
        if received < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        return false
    }

    /// Everything the server sends until it closes or `seconds` pass.
    func readAll(seconds: Double) -> String {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let received = recv(descriptor, &buffer, buffer.count, 0)
            guard received > 0 else { break }
            data += buffer[0..<received]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Slow clients and huge headers", .serialized)
struct SlowClientTests {
    func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test("slowloris (headers or bodies a byte at a time) and huge headers do not exhaust the server")
    func slowClients() async throws {
        let directory = try temporaryDirectory()
        let server = try await ServerProcess.start(
            directory: directory, database: "slow.sqlite",
            environment: ["VIGIL_SERVER_IDLE_TIMEOUT_SECONDS": "2", "VIGIL_SERVER_BODY_TIMEOUT_SECONDS": "2"])
        defer { server.kill(SIGKILL) }  // if the test stops early; at the end it is stopped with SIGTERM first
        let scoring = try #require(server.keys["scoring"])
        #expect(try await server.request("GET", "/healthz", key: nil).0 == 200)
        let residentBefore = residentKiB(server.process.processIdentifier)

        // Given 100 clients sending their headers slowly and 100 sending their bodies slowly (not more: other suites
        // run in this process meanwhile, and Foundation still calls select(2), which breaks past descriptor 1023)
        var slowHeaders: [RawConnection] = []
        var slowBodies: [RawConnection] = []
        for _ in 0..<100 {
            let headers = try RawConnection(port: server.port)
            headers.send("POST /v1/score HTTP/1.1\r\nHost: vigil\r\n")
            slowHeaders.append(headers)
            let body = try RawConnection(port: server.port)
            body.send(
                "POST /v1/score HTTP/1.1\r\nHost: vigil\r\nAuthorization: Bearer \(scoring)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{")
            slowBodies.append(body)
        }
        // ... and 10 sending a 1 MiB header (the limit is 80 KiB)
        let huge = String(repeating: "a", count: 1 << 20)
        var hugeAnswers: [String] = []
        for _ in 0..<10 {
            let connection = try RawConnection(port: server.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: vigil\r\nX-Huge: \(huge)\r\n\r\n")
            hugeAnswers.append(connection.readAll(seconds: 5))
        }
        // When they trickle a byte every 250 ms for 4 s (twice the timeouts) while ordinary clients score
        let trickle = Task { [slowHeaders, slowBodies] in
            for round in 0..<16 {
                for connection in slowHeaders { connection.send("X-\(round): 1\r\n") }
                for connection in slowBodies { connection.send(" ") }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        // (each on a new connection: a kept-alive one may be closed by the 2 s idle timeout just as it is reused)
        var slowest = Duration.zero
        for index in 0..<100 {
            let started = ContinuousClock.now
            let body = transactionBody("ordinary-\(index)", amount: 20 + index)
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST /v1/score HTTP/1.1\r\nHost: vigil\r\nAuthorization: Bearer \(scoring)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                    + body)
            let answer = connection.readAll(seconds: 5)
            slowest = max(slowest, ContinuousClock.now - started)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
            try await Task.sleep(for: .milliseconds(30))
        }
        await trickle.value

        // Then ordinary clients were served promptly all along
        #expect(slowest < .seconds(1), "an ordinary request took \(slowest)")
        // ... every huge header was refused without an answer longer than a status line, and the connection closed
        for answer in hugeAnswers {
            #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 4"), "\(answer.prefix(200))")
        }
        // ... the server closed every slow connection (after the idle or the body timeout), whatever they sent
        #expect(slowHeaders.filter { !$0.isClosedByPeer }.count == 0, "slow-header connections still open")
        #expect(slowBodies.filter { !$0.isClosedByPeer }.count == 0, "slow-body connections still open")
        // ... none of the slow payments was stored, and memory did not balloon
        let (status, _) = try await server.request("GET", "/healthz", key: nil)
        #expect(status == 200)
        let grown = residentKiB(server.process.processIdentifier) - residentBefore
        #expect(grown < 200 * 1024, "resident memory grew by \(grown / 1024) MiB")
        server.kill(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }
}
