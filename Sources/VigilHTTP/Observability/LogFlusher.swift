import ServiceLifecycle

/// Flushes buffered log lines on an interval and once more at shutdown.
public struct LogFlusher: Service {
    let sink: LogSink
    let interval: Duration

    public init(sink: LogSink = .shared, interval: Duration = .milliseconds(250)) {
        self.sink = sink
        self.interval = interval
    }

    public func run() async throws {
        defer { sink.flush() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            sink.flush()
        }
    }
}
