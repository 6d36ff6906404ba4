/// The values of one data page (or dictionary page), handed out one at a time. One class per
/// encoding; the column's logical type is applied as each value is made.
protocol PageValueDecoder: AnyObject {
    func next() throws -> ParquetValue
}

extension ParquetColumn {
    /// Bytes per value of a fixed-width physical type (nil for BOOLEAN and BYTE_ARRAY).
    var fixedWidth: Int? {
        switch physicalType {
        case .int32, .float: return 4
        case .int64, .double: return 8
        case .int96: return 12
        case .fixedLenByteArray: return typeLength
        case .boolean, .byteArray: return nil
        }
    }

    /// One value of a fixed-width physical type from its little-endian (or, for byte arrays,
    /// as-stored) bytes.
    func value(fixed bytes: ArraySlice<UInt8>) -> ParquetValue {
        func le() -> UInt64 {
            var v: UInt64 = 0
            for (k, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
            return v
        }
        switch physicalType {
        case .int32: return value(int32: Int32(truncatingIfNeeded: le()))
        case .int64: return value(int64: Int64(bitPattern: le()))
        case .float: return .float(Float(bitPattern: UInt32(truncatingIfNeeded: le())))
        case .double: return .double(Double(bitPattern: le()))
        case .int96: return value(int96: bytes)
        case .fixedLenByteArray, .byteArray: return value(bytes: bytes)
        case .boolean: return .bool(bytes.first.map { $0 & 1 == 1 } ?? false)
        }
    }
}

/// PLAIN: fixed-width values back to back, byte arrays with a 4-byte length, booleans one bit each.
final class PlainDecoder: PageValueDecoder {
    private let column: ParquetColumn
    private var input: PageBytes
    private var bit = 0

    init(column: ParquetColumn, input: PageBytes) {
        self.column = column
        self.input = input
    }

    func next() throws -> ParquetValue {
        switch column.physicalType {
        case .boolean:
            if bit == 8 { bit = 0 }
            if bit == 0 { _ = try input.take(1) }
            let byte = input.bytes[input.position - 1]
            defer { bit += 1 }
            return .bool(byte >> UInt8(bit) & 1 == 1)
        case .byteArray:
            let n = Int(try input.u32())
            return column.value(bytes: input.bytes[try input.take(n)])
        default:
            return column.value(fixed: input.bytes[try input.take(column.fixedWidth ?? 0)])
        }
    }
}

/// PLAIN_DICTIONARY / RLE_DICTIONARY: a bit width byte, then RLE / bit-packed indices.
final class DictionaryDecoder: PageValueDecoder {
    private let dictionary: [ParquetValue]
    private var indices: RLEHybridStream

    init(dictionary: [ParquetValue], input: PageBytes) throws {
        var input = input
        self.dictionary = dictionary
        // A page of nulls only may hold no index data at all.
        let width = input.remaining > 0 ? Int(input.bytes[try input.take(1).lowerBound]) : 0
        indices = try RLEHybridStream(input, bitWidth: width)
    }

    func next() throws -> ParquetValue {
        let i = Int(try indices.next())
        guard i < dictionary.count else { throw ParquetFailure("dictionary index \(i) out of range") }
        return dictionary[i]
    }
}

/// RLE booleans: a 4-byte length, then the RLE / bit-packed hybrid at bit width 1.
final class RLEBooleanDecoder: PageValueDecoder {
    private var bits: RLEHybridStream

    init(input: PageBytes) throws {
        var input = input
        let length = Int(try input.u32())
        let r = try input.take(length)
        bits = try RLEHybridStream(PageBytes(input.bytes, from: r.lowerBound, to: r.upperBound), bitWidth: 1)
    }

    func next() throws -> ParquetValue { .bool(try bits.next() != 0) }
}
