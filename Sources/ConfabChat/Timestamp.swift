/// ISO-8601 UTC timestamps with milliseconds (`2026-11-22T10:30:00.123Z`), computed with
/// Howard Hinnant's civil-from-days so no calendar or clock is needed.
enum Timestamp {
    /// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func append(epochMilliseconds ms: Int64, to bytes: inout [UInt8]) {
        // Floor division so instants before 1970 still land on the right day.
        let msPerDay: Int64 = 86_400_000
        let clamped = min(max(ms, -62_135_596_800_000), 253_402_300_799_999)  // years 0001...9999
        var days = clamped / msPerDay
        var rest = clamped % msPerDay
        if rest < 0 {
            rest += msPerDay
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let seconds = rest / 1000
        digits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(seconds / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(seconds / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(seconds % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        digits(rest % 1000, 3, &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    static func iso8601(epochMilliseconds ms: Int64) -> String {
        var bytes: [UInt8] = []
        append(epochMilliseconds: ms, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func digits(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
