import Testing

@testable import VigilCore

@Suite("Onset detection: robust z-scores of a segment against its own baseline")
struct OnsetDetectorTests {
    static func hours(_ count: Int, payments: Int = 200, declines: Int = 4, fraud: Int = 2) -> [OnsetDetector.Bucket] {
        (0..<count).map { hour in
            OnsetDetector.Bucket(
                payments: payments, declines: declines + hour % 3, reviews: 10 + hour % 2,
                scoreSum: Double(payments) * (0.05 + Double(hour % 4) * 0.002), fraud: fraud + hour % 2)
        }
    }

    @Test("an attack hour raises decline, score and fraud onsets; an ordinary hour raises none")
    func attack() {
        let detector = OnsetDetector()
        let baseline = Self.hours(24)
        #expect(detector.onsets(current: baseline[5], baseline: baseline).isEmpty)
        let attack = OnsetDetector.Bucket(payments: 220, declines: 40, reviews: 11, scoreSum: 220 * 0.31, fraud: 30)
        let onsets = detector.onsets(current: attack, baseline: baseline)
        #expect(Set(onsets.map(\.metric)) == [.declineRate, .meanScore, .fraudRate])
        let decline = try! #require(onsets.first { $0.metric == .declineRate })
        #expect(abs(decline.value - 40.0 / 220) < 1e-12)
        #expect(abs(decline.baselineMedian - 5.0 / 200) < 1e-12)
        #expect(decline.z >= 4)
        // A drop is not an onset.
        let quiet = OnsetDetector.Bucket(payments: 200, declines: 0, reviews: 0, scoreSum: 0, fraud: 0)
        #expect(detector.onsets(current: quiet, baseline: baseline).isEmpty)
    }

    @Test("too little volume or baseline is not judged; a flat baseline uses the MAD floor")
    func guards() {
        let detector = OnsetDetector()
        let attack = OnsetDetector.Bucket(payments: 220, declines: 40, fraud: 30)
        #expect(
            detector.onsets(current: OnsetDetector.Bucket(payments: 10, declines: 10), baseline: Self.hours(24)).isEmpty
        )
        #expect(detector.onsets(current: attack, baseline: Self.hours(5)).isEmpty)
        #expect(detector.onsets(current: attack, baseline: Self.hours(24, payments: 20)).isEmpty)
        let flat = (0..<12).map { _ in OnsetDetector.Bucket(payments: 100, declines: 2) }
        let small = OnsetDetector.Bucket(payments: 100, declines: 3)
        #expect(detector.onsets(current: small, baseline: flat).isEmpty)  // +1 point over a flat 2 %: z = 0.67
        let large = OnsetDetector.Bucket(payments: 100, declines: 10)
        #expect(detector.onsets(current: large, baseline: flat).map(\.metric) == [.declineRate])
    }
}
