import Basics

/// Physical values turned into what their column's logical type says they are. A value the
/// annotation cannot apply to (a UUID that is not 16 bytes, a TIME past midnight) keeps its
/// physical form rather than failing the file.
extension ParquetColumn {
    func value(int32 v: Int32) -> ParquetValue {
        switch logicalType {
        case .integer(_, signed: false): return .uint(UInt64(UInt32(bitPattern: v)))
        case .decimal(let scale, _): return DecimalText.text(unscaled: Int64(v), scale: scale).map(ParquetValue.string) ?? .int(Int64(v))
        case .date: return .string(CivilTime.date(days: Int64(v)))
        case .time(let unit, _): return CivilTime.time(Int64(v), unit: unit).map(ParquetValue.string) ?? .int(Int64(v))
        default: return .int(Int64(v))
        }
    }

    func value(int64 v: Int64) -> ParquetValue {
        switch logicalType {
        case .integer(_, signed: false): return .uint(UInt64(bitPattern: v))
        case .decimal(let scale, _): return DecimalText.text(unscaled: v, scale: scale).map(ParquetValue.string) ?? .int(v)
        case .time(let unit, _): return CivilTime.time(v, unit: unit).map(ParquetValue.string) ?? .int(v)
        case .timestamp(let unit, let utc): return .string(CivilTime.timestamp(v, unit: unit, utc: utc))
        default: return .int(v)
        }
    }

    /// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values.
    func value(bytes: ArraySlice<UInt8>) -> ParquetValue {
        switch logicalType {
        case .string: return .string(String(decoding: bytes, as: UTF8.self))
        case .decimal(let scale, _):
            if let text = DecimalText.text(bigEndian: bytes, scale: scale) { return .string(text) }
        case .uuid where bytes.count == 16: return .string(Self.uuidText(bytes))
        case .float16 where bytes.count == 2:
            return .float(Self.float(half: UInt16(bytes[bytes.startIndex]) | UInt16(bytes[bytes.startIndex + 1]) << 8))
        default: break
        }
        return .bytes(Array(bytes))
    }

    /// INT96, only ever written for timestamps (Impala, Hive, Spark by default): 8 bytes of
    /// nanoseconds in the day, then the 4-byte Julian day, both little-endian. Read as local
    /// time (no zone), as Arrow does.
    func value(int96 bytes: ArraySlice<UInt8>) -> ParquetValue {
        guard bytes.count == 12 else { return .bytes(Array(bytes)) }
        var nanos: UInt64 = 0, julian: UInt32 = 0
        for k in 0..<8 { nanos |= UInt64(bytes[bytes.startIndex + k]) << (8 * UInt64(k)) }
        for k in 0..<4 { julian |= UInt32(bytes[bytes.startIndex + 8 + k]) << (8 * UInt32(k)) }
        let unixDays = Int64(julian) - 2_440_588   // the Julian day of 1970-01-01
        let (dayNanos, o1) = unixDays.multipliedReportingOverflow(by: 86_400_000_000_000)
        let (total, o2) = dayNanos.addingReportingOverflow(Int64(bitPattern: nanos))
        guard !o1, !o2 else { return .bytes(Array(bytes)) }
        return .string(CivilTime.timestamp(total, unit: .nanos, utc: false))
    }

    /// 8-4-4-4-12 lowercase hex.
    private static func uuidText(_ bytes: ArraySlice<UInt8>) -> String {
        let hex = Array(Array(bytes).hexString)
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// IEEE 754 half precision to Float (exact: every half is a float).
    static func float(half h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10 & 0x1F), fraction = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24                      // subnormal
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
