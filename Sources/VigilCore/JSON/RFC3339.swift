/// RFC 3339 timestamps to and from microseconds since the Unix epoch (UTC), in integer arithmetic.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` with `T`/`Z` in either case, year 0001–9999, seconds 0–59
/// (no leap second), offsets up to ±23:59. Fractions finer than a microsecond are truncated.
public enum RFC3339 {
    /// What is wrong with a timestamp, worded for an API error message.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case syntax
        case year
        case month
        case day
        case hour
        case minute
        case second
        case fraction
        case offset

        public var description: String {
            switch self {
            case .syntax: "not in the form YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)"
            case .year: "year must be 0001 to 9999"
            case .month: "month must be 01 to 12"
            case .day: "day is out of range for the month"
            case .hour: "hour must be 00 to 23"
            case .minute: "minute must be 00 to 59"
            case .second: "second must be 00 to 59"
            case .fraction: "fractional seconds must have 1 to 9 digits"
            case .offset: "offset must be Z or ±HH:MM up to ±23:59"
            }
        }
    }

    /// Microseconds since the epoch for the timestamp in `text`.
    public static func parse(_ text: String) -> Result<Int64, Failure> {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Microseconds since the epoch for the timestamp in `bytes` (UTF-8, the whole buffer).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Int64, Failure> {
        let count = bytes.count
        guard count >= 20 else { return .failure(.syntax) }
        @inline(__always) func digits(_ at: Int, _ length: Int) -> Int? {
            var value = 0
            for i in at..<(at + length) {
                let d = bytes[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                value = value * 10 + Int(d)
            }
            return value
        }
        guard let year = digits(0, 4), bytes[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            bytes[7] == UInt8(ascii: "-"), let day = digits(8, 2), bytes[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            bytes[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return .failure(.syntax) }
        var i = 19
        var micros = 0
        if bytes[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < count, bytes[i] &- UInt8(ascii: "0") < 10 {
                if i - start < 6 { micros = micros * 10 + Int(bytes[i] - UInt8(ascii: "0")) }
                i += 1
            }
            let length = i - start
            guard length >= 1 && length <= 9 else { return .failure(.fraction) }
            for _ in min(length, 6)..<6 { micros *= 10 }
        }
        guard i < count else { return .failure(.syntax) }
        var offsetSeconds = 0
        let zone = bytes[i]
        if zone | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
            guard i + 6 <= count, let offsetHour = digits(i + 1, 2), bytes[i + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(i + 4, 2)
            else { return .failure(.syntax) }
            guard offsetHour <= 23 && offsetMinute <= 59 else { return .failure(.offset) }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (zone == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return .failure(.syntax)
        }
        guard i == count else { return .failure(.syntax) }
        guard year >= 1 else { return .failure(.year) }
        guard month >= 1 && month <= 12 else { return .failure(.month) }
        guard day >= 1 && day <= daysInMonth(year: year, month: month) else { return .failure(.day) }
        guard hour <= 23 else { return .failure(.hour) }
        guard minute <= 59 else { return .failure(.minute) }
        guard second <= 59 else { return .failure(.second) }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return .success(Int64(seconds) * 1_000_000 + Int64(micros))
    }

    /// Whole days since the epoch (floored) and the microseconds into that day, for any sign.
    public static func splitDays(micros: Int64) -> (days: Int64, microsOfDay: Int64) {
        let microsPerDay: Int64 = 86_400_000_000
        let days = micros / microsPerDay
        let remainder = micros % microsPerDay
        return remainder < 0 ? (days - 1, remainder + microsPerDay) : (days, remainder)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for an instant given in microseconds since the epoch.
    public static func format(micros: Int64) -> String {
        let (days, remainder) = splitDays(micros: micros)
        let (year, month, day) = civilFromDays(Int(days))
        let secondOfDay = Int(remainder / 1_000_000)
        let fraction = Int(remainder % 1_000_000)
        guard year >= 0 && year <= 9999 else {
            return "\(year)-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
                + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(fraction, 6))Z"
        }
        return String(unsafeUninitializedCapacity: 27) { buffer in
            @inline(__always) func put(_ value: Int, at: Int, width: Int) {
                var value = value
                for k in stride(from: at + width - 1, through: at, by: -1) {
                    buffer[k] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, at: 0, width: 4)
            buffer[4] = UInt8(ascii: "-")
            put(month, at: 5, width: 2)
            buffer[7] = UInt8(ascii: "-")
            put(day, at: 8, width: 2)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, at: 11, width: 2)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, at: 14, width: 2)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, at: 17, width: 2)
            buffer[19] = UInt8(ascii: ".")
            put(fraction, at: 20, width: 6)
            buffer[26] = UInt8(ascii: "Z")
            return 27
        }
    }

    /// Number of days in `month` of `year` in the proleptic Gregorian calendar.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days from 1970-01-01 to the given civil date (Howard Hinnant's `days_from_civil`).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - text.count)) + text
        return value < 0 ? "-" + padded : padded
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for an instant given in microseconds since the Unix epoch.
public func formatRFC3339(micros: Int64) -> String {
    RFC3339.format(micros: micros)
}
