/// DATE, TIME and TIMESTAMP values as ISO 8601 text, in the proleptic Gregorian calendar.
/// Fractions of a second get the digits of the column's unit (3 for millis, 6 for micros, 9
/// for nanos), so the text keeps every digit the file holds; UTC-adjusted timestamps end in `Z`,
/// local ones (no zone) do not.
enum CivilTime {
    static func date(days: Int64) -> String {
        let (y, m, d) = civil(days: days)
        return year(y) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// A time of day; nil outside 00:00 to 24:00.
    static func time(_ value: Int64, unit: ParquetTimeUnit) -> String? {
        guard value >= 0, value <= 86_400 * unit.perSecond else { return nil }
        return clock(value, unit: unit)
    }

    static func timestamp(_ value: Int64, unit: ParquetTimeUnit, utc: Bool) -> String {
        let perDay = 86_400 * unit.perSecond
        // Floor division: times before 1970 belong to the day before, counted forward.
        var days = value / perDay, rest = value % perDay
        if rest < 0 { days -= 1; rest += perDay }
        return date(days: days) + "T" + clock(rest, unit: unit) + (utc ? "Z" : "")
    }

    private static func clock(_ value: Int64, unit: ParquetTimeUnit) -> String {
        let seconds = value / unit.perSecond, fraction = value % unit.perSecond
        return pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
            + "." + pad(fraction, unit.digits)
    }

    /// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
    private static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Four digits at least; a sign before years before year 0 (ISO 8601's expanded form).
    private static func year(_ y: Int64) -> String { y < 0 ? "-" + pad(-y, 4) : pad(y, 4) }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
