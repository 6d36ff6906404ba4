/// Thrift's compact protocol, the encoding of Parquet's page headers and footer, written field by
/// field. A struct is `beginStruct` ... fields ... `endStruct`; field ids must rise within a
/// struct (they are written as deltas where they fit in 4 bits).
struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = [0]

    private enum TypeCode: UInt8 {
        case boolTrue = 1, boolFalse = 2, i32 = 5, i64 = 6, binary = 8, list = 9, structure = 12
    }

    mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .structure)
        lastFieldIDs.append(0)
    }

    mutating func endStruct() {
        bytes.append(0)
        lastFieldIDs.removeLast()
    }

    /// A struct as a list element: no field header.
    mutating func beginListStruct() { lastFieldIDs.append(0) }

    mutating func i32(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        varint(zigzag(Int64(value)))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        varint(zigzag(value))
    }

    mutating func bool(_ id: Int16, _ value: Bool) { fieldHeader(id, value ? .boolTrue : .boolFalse) }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ id: Int16, _ value: String) { binary(id, Array(value.utf8)) }

    mutating func listOfI32(_ id: Int16, _ values: [Int32]) {
        listHeader(id, count: values.count, element: .i32)
        for v in values { varint(zigzag(Int64(v))) }
    }

    mutating func listOfStrings(_ id: Int16, _ values: [String]) {
        listHeader(id, count: values.count, element: .binary)
        for v in values {
            varint(UInt64(v.utf8.count))
            bytes += Array(v.utf8)
        }
    }

    /// A list of structs: the header here, then `beginListStruct` ... `endStruct` per element.
    mutating func listOfStructs(_ id: Int16, count: Int) { listHeader(id, count: count, element: .structure) }

    /// An empty struct as a field (Parquet's unions of empty marker structs, e.g. `StringType`).
    mutating func emptyStruct(_ id: Int16) {
        beginStruct(id)
        endStruct()
    }

    private mutating func listHeader(_ id: Int16, count: Int, element: TypeCode) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    private mutating func fieldHeader(_ id: Int16, _ type: TypeCode) {
        let delta = Int(id) - Int(lastFieldIDs[lastFieldIDs.count - 1])
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(zigzag(Int64(id)))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    private func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
