import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line on stderr: payments sent, rate, simulated day, decisions so far, errors; redrawn in place on a
/// terminal, printed every few seconds otherwise (a log file gets a handful of lines, not thousands).
final class ProgressBar: Sendable {
    struct Snapshot: Sendable {
        var sent = 0
        var acknowledged = 0
        var approve = 0
        var review = 0
        var decline = 0
        var errors = 0
        var casesWorked = 0
        var chargebacks = 0

        init() {}

        init(_ ledger: Ledger) {
            sent = ledger.sent
            acknowledged = ledger.acknowledged
            approve = ledger.decisions[.approve] ?? 0
            review = ledger.decisions[.review] ?? 0
            decline = ledger.decisions[.decline] ?? 0
            errors = ledger.errorCount
            casesWorked = ledger.casesWorked
            chargebacks = ledger.chargebacksInside + ledger.chargebacksAtEnd
        }
    }

    let total: Int
    let days: Int
    let enabled: Bool
    let showsReview: Bool
    let isTerminal: Bool
    private let currentDay = Atomic<Int>(0)
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let source = Mutex<(@Sendable () -> Snapshot)?>(nil)
    private let began = ContinuousClock.now

    init(total: Int, days: Int, enabled: Bool, showsReview: Bool) {
        self.total = total
        self.days = days
        self.enabled = enabled
        self.showsReview = showsReview
        self.isTerminal = isatty(2) == 1
    }

    /// The simulated day being sent, from 1.
    var day: Int {
        get { currentDay.load(ordering: .relaxed) }
        set { currentDay.store(newValue, ordering: .relaxed) }
    }

    func start(_ snapshot: @escaping @Sendable () -> Snapshot) {
        source.withLock { $0 = snapshot }
        guard enabled else { return }
        let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(5)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                self.draw(final: false)
            }
        }
        ticker.withLock { $0 = task }
    }

    func stop() {
        ticker.withLock {
            $0?.cancel()
            $0 = nil
        }
        if enabled { draw(final: true) }
    }

    private func draw(final: Bool) {
        guard let snapshot = source.withLock({ $0 })?() else { return }
        let line = Self.line(
            snapshot, total: total, day: day, days: days, seconds: began.duration(to: .now).seconds,
            review: showsReview)
        let text = isTerminal ? "\r" + line + "\u{1B}[K" + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func line(_ snapshot: Snapshot, total: Int, day: Int, days: Int, seconds: Double, review: Bool) -> String {
        let width = 24
        let done = total > 0 ? min(1, Double(snapshot.acknowledged + snapshot.errors) / Double(total)) : 1
        let filled = Int((done * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = seconds > 0 ? Double(snapshot.sent) / seconds : 0
        var parts = [
            "[\(bar)] \(snapshot.sent)/\(total)", String(format: "%3.0f%%", done * 100), String(format: "%.0f/s", rate),
            "day \(max(day, 1))/\(days)",
            "approve \(snapshot.approve) review \(snapshot.review) decline \(snapshot.decline)",
            "errors \(snapshot.errors)",
        ]
        if review { parts.append("worked \(snapshot.casesWorked) chargebacks \(snapshot.chargebacks)") }
        return parts.joined(separator: "  ")
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
