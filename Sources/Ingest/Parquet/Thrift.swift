/// A decoder for the Thrift compact protocol, the encoding of Parquet's footer and page headers.
/// Only what Parquet needs: structs are read field by field and unknown fields skipped.
struct ThriftCompactReader {
    enum Failure: Error { case endOfInput, invalid(String) }

    /// Compact protocol field types.
    enum FieldType: UInt8 {
        case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7,
             binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private var depth = 0

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = end ?? bytes.count
    }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw Failure.endOfInput }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw Failure.invalid("varint too long") }
        }
    }

    mutating func i64() throws -> Int64 {
        let z = try varint()
        return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
    }

    mutating func i32() throws -> Int32 {
        let v = try i64()
        guard let r = Int32(exactly: v) else { throw Failure.invalid("i32 out of range") }
        return r
    }

    mutating func binary() throws -> ArraySlice<UInt8> {
        let n = try varint()
        guard n <= UInt64(end - position) else { throw Failure.endOfInput }
        defer { position += Int(n) }
        return bytes[position..<position + Int(n)]
    }

    mutating func string() throws -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// Reads the header of a list; elements follow.
    mutating func listHeader() throws -> (FieldType, Int) {
        let h = try byte()
        guard let t = FieldType(rawValue: h & 0x0F) else { throw Failure.invalid("bad list element type") }
        var n = Int(h >> 4)
        if n == 15 {
            let big = try varint()
            guard big <= UInt64(end - position) else { throw Failure.invalid("list too long") }
            n = Int(big)
        }
        return (t, n)
    }

    /// Reads a struct: `field` is called with each field id and type and returns false for the
    /// fields it does not read, which are then skipped.
    mutating func structure(_ field: (inout ThriftCompactReader, Int16, FieldType) throws -> Bool) throws {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Failure.invalid("structs nested too deep") }
        var lastID: Int16 = 0
        while true {
            let h = try byte()
            guard let t = FieldType(rawValue: h & 0x0F) else { throw Failure.invalid("bad field type \(h & 0x0F)") }
            if t == .stop { return }
            let delta = Int16(h >> 4)
            let id: Int16
            if delta == 0 {
                guard let full = Int16(exactly: try i64()) else { throw Failure.invalid("bad field id") }
                id = full
            } else {
                id = lastID &+ delta
            }
            lastID = id
            if try !field(&self, id, t) { try skip(t) }
        }
    }

    /// Reads a boolean field (its value is in the type nibble).
    func bool(_ type: FieldType) -> Bool { type == .boolTrue }

    mutating func skip(_ type: FieldType) throws {
        switch type {
        case .stop: return
        case .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - position >= 8 else { throw Failure.endOfInput }
            position += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (t, n) = try listHeader()
            for _ in 0..<n {
                // Booleans inside lists take one byte each.
                if t == .boolTrue || t == .boolFalse { _ = try byte() } else { try skip(t) }
            }
        case .map:
            let n = try varint()
            guard n <= UInt64(end - position) else { throw Failure.invalid("map too long") }
            if n == 0 { return }
            let kv = try byte()
            guard let k = FieldType(rawValue: kv >> 4), let v = FieldType(rawValue: kv & 0x0F) else {
                throw Failure.invalid("bad map types")
            }
            for _ in 0..<n {
                if k == .boolTrue || k == .boolFalse { _ = try byte() } else { try skip(k) }
                if v == .boolTrue || v == .boolFalse { _ = try byte() } else { try skip(v) }
            }
        case .structure:
            try structure { _, _, _ in false }
        }
    }
}
