import Foundation
import VigilCore
import VigilStore

extension Worker {
    /// One segment that departed from its baseline in the newest bucket.
    struct SegmentOnset: Sendable {
        var segment: MiningSegment
        var onsets: [OnsetDetector.Onset]
    }

    /// The heavy half of an onset run: the bucket queries and the detector, on the worker's thread.
    struct OnsetComputation: Sendable {
        let store: WorkerStore
        let settings: WorkerSettings

        struct Result: Sendable {
            var fromMicros: Int64 = 0
            var toMicros: Int64 = 0
            var currentFromMicros: Int64 = 0
            var segmentsChecked = 0
            var onsets: [SegmentOnset] = []
            var empty = false
        }

        func run() throws -> Result {
            var result = Result()
            guard let now = try store.eventNow() else {
                result.empty = true
                return result
            }
            let width = Int64(settings.onsetBucketMinutes) * 60_000_000
            let baseline = settings.onsetBaselineBuckets
            result.toMicros = now + 1
            result.fromMicros = result.toMicros - Int64(baseline + 1) * width
            result.currentFromMicros = result.toMicros - width
            var detectorSettings = OnsetDetector.Settings()
            detectorSettings.threshold = settings.onsetThreshold
            detectorSettings.minVolume = settings.onsetMinVolume
            detectorSettings.minBaselineBuckets = min(detectorSettings.minBaselineBuckets, baseline)
            let detector = OnsetDetector(settings: detectorSettings)
            var segments: [(SegmentKind, [String]?)] = [
                (.merchantCountry, nil), (.channel, nil), (.merchantCategory, nil),
            ]
            if settings.onsetMerchants > 0 {
                // The busiest over the whole span, and the busiest now (a merchant under attack gets busy).
                var merchants = try store.busiestMerchants(
                    fromMicros: result.fromMicros, toMicros: result.toMicros, limit: settings.onsetMerchants)
                for merchant in try store.busiestMerchants(
                    fromMicros: result.currentFromMicros, toMicros: result.toMicros, limit: settings.onsetMerchants)
                where !merchants.contains(merchant) {
                    merchants.append(merchant)
                }
                segments.append((.merchantID, merchants))
            }
            for (kind, values) in segments {
                let buckets = try store.segmentBuckets(
                    kind, values: values, fromMicros: result.fromMicros, toMicros: result.toMicros, widthMicros: width)
                for value in buckets.keys.sorted() {
                    let byBucket = buckets[value] ?? [:]
                    result.segmentsChecked += 1
                    func bucket(_ index: Int) -> OnsetDetector.Bucket {
                        let counts = byBucket[index] ?? SegmentBucketCounts()
                        return OnsetDetector.Bucket(
                            payments: counts.payments, declines: counts.declines, reviews: counts.reviews,
                            scoreSum: counts.scoreSum, fraud: counts.fraud)
                    }
                    let onsets = detector.onsets(current: bucket(baseline), baseline: (0..<baseline).map(bucket))
                    if !onsets.isEmpty {
                        result.onsets.append(
                            SegmentOnset(segment: MiningSegment(kind: kind, value: value), onsets: onsets))
                    }
                }
            }
            return result
        }
    }

    /// Checks every segment's newest bucket against its baseline; each new onset raises an alert and mines the
    /// segment over the alert's window, so the rules proposed name the alert.
    func onset(runID: String) async throws -> String {
        let computation = OnsetComputation(store: store, settings: settings)
        let started = ContinuousClock.now
        let result = try await LowPriorityThread.run { try computation.run() }
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.objectStart()
        if result.empty {
            writer.key("note")
            writer.string("no payments stored yet")
            writer.objectEnd()
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        writer.key("window")
        writer.objectStart()
        writer.key("from")
        writer.string(formatRFC3339(micros: result.fromMicros))
        writer.key("to")
        writer.string(formatRFC3339(micros: result.toMicros))
        writer.key("bucket_minutes")
        writer.int(settings.onsetBucketMinutes)
        writer.key("current_from")
        writer.string(formatRFC3339(micros: result.currentFromMicros))
        writer.objectEnd()
        writer.key("segments_checked")
        writer.int(result.segmentsChecked)
        writer.key("alerts")
        writer.arrayStart()
        var coveredFraud: Set<Int64> = []
        for found in result.onsets {
            let details = Self.onsetDetails(found, result: result, settings: settings)
            let strongest = found.onsets.max { $0.z < $1.z }!
            let message =
                "\(found.segment.kind.rawValue) \(found.segment.value): \(strongest.metric.rawValue) "
                + "\(String(format: "%.3f", strongest.value)) in the bucket from "
                + "\(formatRFC3339(micros: result.currentFromMicros)) against a baseline median of "
                + "\(String(format: "%.3f", strongest.baselineMedian)) (robust z \(String(format: "%.1f", strongest.z)), "
                + "\(strongest.payments) payments)"
            let alert = try await rules.alerts.raise(
                NewAlert(
                    alertID: identifiers.make(prefix: "al_", nowMicros: clock.nowMicros()),
                    kind: "segment_onset", subjectType: found.segment.kind.rawValue, subjectID: found.segment.value,
                    message: message, details: details,
                    dedupeKey: "segment_onset:\(found.segment.kind.rawValue):\(found.segment.value):"
                        + "\(result.currentFromMicros)"),
                nowMicros: clock.nowMicros())
            writer.objectStart()
            writer.key("segment")
            Self.writeSegment(found.segment, into: &writer)
            writer.key("metrics")
            writer.raw(Array(Self.metricsJSON(found.onsets).utf8))
            writer.key("alert_id")
            writer.optionalString(alert?.alertID)
            writer.key("new")
            writer.bool(alert != nil)
            writer.key("mining")
            if let alert {
                // The alert's window is the whole span the detector read; the one before it is the evidence's.
                let span = result.toMicros - result.fromMicros
                let request = MiningRequest(
                    fromMicros: result.fromMicros, toMicros: result.toMicros,
                    previousFromMicros: result.fromMicros - span, segment: found.segment, alertID: alert.alertID,
                    coveredFraud: coveredFraud)
                let report = try await mine(runID: runID, request: request)
                coveredFraud.formUnion(report.coveredFraud)
                writer.raw(Array(report.json.utf8))
            } else {
                writer.null()
            }
            writer.objectEnd()
        }
        writer.arrayEnd()
        let elapsed = ContinuousClock.now - started
        writer.key("elapsed_ms")
        writer.number(elapsed.milliseconds)
        writer.objectEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func metricsJSON(_ onsets: [OnsetDetector.Onset]) -> String {
        var writer = JSONWriter(reservingCapacity: 512)
        writer.arrayStart()
        for onset in onsets {
            writer.objectStart()
            writer.key("metric")
            writer.string(onset.metric.rawValue)
            writer.key("value")
            writer.number(onset.value)
            writer.key("baseline_median")
            writer.number(onset.baselineMedian)
            writer.key("z")
            writer.number(onset.z)
            writer.key("payments")
            writer.int(onset.payments)
            writer.objectEnd()
        }
        writer.arrayEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func onsetDetails(_ found: SegmentOnset, result: OnsetComputation.Result, settings: WorkerSettings) -> String
    {
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.objectStart()
        writer.key("segment")
        writeSegment(found.segment, into: &writer)
        writer.key("bucket")
        writeSpan(from: result.currentFromMicros, to: result.toMicros, into: &writer)
        writer.key("window")
        writeSpan(from: result.fromMicros, to: result.toMicros, into: &writer)
        writer.key("metrics")
        writer.raw(Array(metricsJSON(found.onsets).utf8))
        writer.objectEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
