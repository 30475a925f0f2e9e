import Testing

@testable import VigilCore

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    @Test(
        "valid timestamps parse to microseconds since the epoch (UTC)",
        arguments: [
            ("1970-01-01T00:00:00Z", Int64(0)),
            ("2026-11-22T05:58:05Z", 1_795_327_085_000_000),
            ("2026-11-22t05:58:05z", 1_795_327_085_000_000),
            ("2026-11-22T05:58:05.123456+01:00", 1_795_323_485_123_456),
            ("2025-03-14T11:02:10.250+01:00", 1_741_946_530_250_000),
            ("2024-02-29T12:00:00-05:30", 1_709_227_800_000_000),
            ("2000-02-29T23:59:59+23:59", 951_782_459_000_000),
            ("1969-12-31T23:59:59.999999Z", -1),
            ("1970-01-01T00:00:00.9Z", 900_000),
            ("1970-01-01T00:00:00.000001Z", 1),
            ("1970-01-01T00:00:00.123456789Z", 123_456),
            ("1970-01-01T00:00:00-00:00", 0),
            ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
            ("0001-01-01T00:00:00+23:59", -62_135_683_140_000_000),
            ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ])
    func parsesValid(text: String, micros: Int64) throws {
        // Given a valid RFC 3339 timestamp
        // When it is parsed
        let parsed = try RFC3339.parse(text).get()
        // Then it is the instant in microseconds since the epoch, fractions past microseconds truncated
        #expect(parsed == micros)
    }

    @Test(
        "invalid timestamps are refused with the reason",
        arguments: [
            ("", RFC3339.Failure.syntax),
            ("2026-11-22", .syntax),
            ("2026-11-22 05:58:05Z", .syntax),
            ("2026-11-22T05:58:05", .syntax),
            ("2026-11-22T05:58:05Zjunk", .syntax),
            ("2026-11-22T05:58:05+0100", .syntax),
            ("2026-11-22T05:58:05+01", .syntax),
            ("2026/11/22T05:58:05Z", .syntax),
            ("2026-1-22T05:58:05Z", .syntax),
            ("+2026-11-22T05:58:05Z", .syntax),
            ("2026-11-22T05:58:5Z", .syntax),
            ("２026-11-22T05:58:05Z", .syntax),
            ("2026-11-22T05:58:05.Z", .fraction),
            ("2026-11-22T05:58:05.1234567890Z", .fraction),
            ("0000-01-01T00:00:00Z", .year),
            ("2026-00-22T05:58:05Z", .month),
            ("2026-13-22T05:58:05Z", .month),
            ("2026-11-00T05:58:05Z", .day),
            ("2026-04-31T05:58:05Z", .day),
            ("2023-02-29T05:58:05Z", .day),
            ("1900-02-29T05:58:05Z", .day),
            ("2026-01-32T05:58:05Z", .day),
            ("2026-11-22T24:00:00Z", .hour),
            ("2026-11-22T05:60:05Z", .minute),
            ("2026-11-22T05:58:60Z", .second),
            ("2026-11-22T05:58:05+24:00", .offset),
            ("2026-11-22T05:58:05-23:60", .offset),
        ])
    func refusesInvalid(text: String, failure: RFC3339.Failure) {
        // Given a text that is not a valid RFC 3339 timestamp
        // When it is parsed
        let parsed = RFC3339.parse(text)
        // Then the failure names what is wrong
        #expect(parsed == .failure(failure))
    }

    @Test("the leap-year rule follows the Gregorian calendar", arguments: [1600, 2000, 2024, 2400])
    func leapYears(year: Int) throws {
        // Given a leap year
        // When its 29 February is parsed
        let text = String(repeating: "0", count: 4 - String(year).count) + "\(year)-02-29T00:00:00Z"
        // Then it is accepted
        _ = try RFC3339.parse(text).get()
        #expect(RFC3339.isLeapYear(year))
    }

    @Test(
        "formatting gives six fractional digits in UTC",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000000Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (1_795_327_085_000_000, "2026-11-22T05:58:05.000000Z"),
            (1_741_946_530_250_000, "2025-03-14T10:02:10.250000Z"),
            (-62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"),
            (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
        ])
    func formats(micros: Int64, text: String) {
        // Given an instant
        // When it is formatted
        let formatted = formatRFC3339(micros: micros)
        // Then the text is the UTC timestamp with microseconds
        #expect(formatted == text)
    }

    @Test("format then parse gives back the same instant")
    func roundTrip() throws {
        // Given seeded random instants between years 0001 and 9999
        var random = SplitMix64(seed: 3339)
        for _ in 0..<20_000 {
            let micros = Int64.random(in: -62_135_596_800_000_000...253_402_300_799_999_999, using: &random)
            // When one is formatted and parsed again
            let parsed = try RFC3339.parse(formatRFC3339(micros: micros)).get()
            // Then it is unchanged
            #expect(parsed == micros)
        }
    }

    @Test("days-from-civil and civil-from-days are inverse over the supported years")
    func civilDays() {
        // Given every 97th day from 0001-01-01 to 9999-12-31
        let first = RFC3339.daysFromCivil(year: 1, month: 1, day: 1)
        let last = RFC3339.daysFromCivil(year: 9999, month: 12, day: 31)
        for days in stride(from: first, through: last, by: 97) {
            // When it is turned into a date and back
            let (year, month, day) = RFC3339.civilFromDays(days)
            // Then the date is valid and gives back the same day number
            #expect(month >= 1 && month <= 12 && day >= 1 && day <= RFC3339.daysInMonth(year: year, month: month))
            #expect(RFC3339.daysFromCivil(year: year, month: month, day: day) == days)
        }
        #expect(RFC3339.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
    }

    @Test("out-of-range instants still format without crashing")
    func formatsExtremes() {
        // Given instants outside years 0001–9999
        // When they are formatted
        // Then some text comes out
        #expect(!formatRFC3339(micros: .max).isEmpty)
        #expect(!formatRFC3339(micros: .min).isEmpty)
    }
}
