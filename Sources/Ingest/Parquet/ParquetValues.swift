import Basics

/// A Parquet value as the manifest readers use it.
public enum ParquetValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Unsigned integers (INTEGER(unsigned), UINT_8 ... UINT_64), all 64 bits of a UINT_64.
    case uint(UInt64)
    case float(Float)
    case double(Double)
    /// Text: STRING / ENUM / JSON byte arrays as UTF-8 (invalid sequences become U+FFFD), and
    /// the values written as text (decimals, dates, times, timestamps, UUIDs).
    case string(String)
    /// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY without a text or numeric annotation.
    case bytes([UInt8])

    /// The value as metadata text; nil for null. Floats use the shortest text that reads back
    /// to the same value; bytes are hexadecimal.
    public var text: String? {
        switch self {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .float(let f): return f.description
        case .double(let d): return d.description
        case .string(let s): return s
        case .bytes(let b): return b.hexString
        }
    }

    /// Like `text`, but bytes read as UTF-8: for URL and caption columns of writers that store
    /// text without marking it as STRING.
    public var utf8Text: String? {
        if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) }
        return text
    }
}

/// A problem inside a column chunk; the row reader adds the file, column and row group.
struct ParquetFailure: Error {
    let message: String
    /// A valid file using something this reader does not implement, as opposed to damage.
    let isUnsupported: Bool
    init(_ message: String) { self.message = message; isUnsupported = false }
    private init(unsupported message: String) { self.message = message; isUnsupported = true }
    static func unsupported(_ message: String) -> ParquetFailure { ParquetFailure(unsupported: message) }
}

/// Little-endian reads from a page buffer.
struct PageBytes {
    let bytes: [UInt8]
    var position: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        position = from
        end = to ?? bytes.count
    }

    var remaining: Int { end - position }

    mutating func take(_ n: Int) throws -> Range<Int> {
        guard n >= 0, n <= remaining else { throw ParquetFailure("page data ends early") }
        defer { position += n }
        return position..<position + n
    }

    mutating func u32() throws -> UInt32 {
        let r = try take(4)
        return UInt32(bytes[r.lowerBound]) | UInt32(bytes[r.lowerBound + 1]) << 8
            | UInt32(bytes[r.lowerBound + 2]) << 16 | UInt32(bytes[r.lowerBound + 3]) << 24
    }

    mutating func u64() throws -> UInt64 {
        let lo = UInt64(try u32()), hi = UInt64(try u32())
        return lo | hi << 32
    }

    mutating func uleb() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = bytes[try take(1).lowerBound]
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ParquetFailure("varint too long") }
        }
    }

    /// A zigzag-encoded signed varint (the delta encodings' first value and minimum delta).
    mutating func zigzag() throws -> Int64 {
        let z = try uleb()
        return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
    }
}

/// The RLE / bit-packing hybrid encoding of definition levels, dictionary indices and RLE
/// booleans: runs of `(header, value)` and groups of 8 values packed least significant bit
/// first. Decoded one value at a time, so a page's values are never expanded in memory.
struct RLEHybridStream {
    private var input: PageBytes
    private let bitWidth: Int
    private let valueBytes: Int
    private let mask: UInt64
    private var left = 0          // values left in the current run
    private var repeating = false
    private var runValue: UInt32 = 0
    private var acc: UInt64 = 0
    private var bits = 0

    init(_ input: PageBytes, bitWidth: Int) throws {
        guard (0...32).contains(bitWidth) else { throw ParquetFailure("bad bit width \(bitWidth)") }
        self.input = input
        self.bitWidth = bitWidth
        valueBytes = (bitWidth + 7) / 8
        mask = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
    }

    mutating func next() throws -> UInt32 {
        while left == 0 {
            let header = try input.uleb()
            if header & 1 == 0 {
                repeating = true
                left = Int(clamping: header >> 1)
                runValue = 0
                let r = try input.take(valueBytes)
                for (k, i) in r.enumerated() { runValue |= UInt32(input.bytes[i]) << (8 * UInt32(k)) }
            } else {
                repeating = false
                let groups = Int(clamping: header >> 1)
                guard groups <= input.remaining else { throw ParquetFailure("bit-packed run longer than the page") }
                left = groups * 8
                acc = 0
                bits = 0
            }
        }
        left -= 1
        if repeating { return runValue }
        while bits < bitWidth {
            acc |= UInt64(input.bytes[try input.take(1).lowerBound]) << UInt64(bits)
            bits += 8
        }
        let v = UInt32(acc & mask)
        acc >>= UInt64(bitWidth)
        bits -= bitWidth
        return v
    }
}

enum RLEHybrid {
    static func decode(_ input: inout PageBytes, bitWidth: Int, count: Int) throws -> [UInt32] {
        var stream = try RLEHybridStream(input, bitWidth: bitWidth)
        return try (0..<count).map { _ in try stream.next() }
    }
}
