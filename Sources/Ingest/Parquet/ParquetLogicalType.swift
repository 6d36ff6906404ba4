/// What a column's physical values mean: Parquet's LogicalType, or the older ConvertedType for
/// files that only carry that. Only the annotations that change how a value reads are kept;
/// the others (INTERVAL, BSON, GEOMETRY, GEOGRAPHY, annotations newer than this reader) leave
/// the physical value as it is.
public enum ParquetLogicalType: Sendable, Equatable {
    case none
    /// STRING (UTF8), ENUM and JSON: UTF-8 text.
    case string
    case integer(bitWidth: Int, signed: Bool)
    case decimal(scale: Int, precision: Int)
    case date
    case time(ParquetTimeUnit, adjustedToUTC: Bool)
    case timestamp(ParquetTimeUnit, adjustedToUTC: Bool)
    case uuid
    case float16

    /// The LogicalType union (SchemaElement field 10).
    static func read(_ r: inout ThriftCompactReader) throws -> ParquetLogicalType {
        var result = ParquetLogicalType.none
        try r.structure { r, id, t in
            guard t == .structure else { return false }
            switch id {
            case 1, 4, 12: result = .string           // STRING, ENUM, JSON
            case 5:                                   // DECIMAL
                var scale: Int32 = 0, precision: Int32 = 0
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): scale = try r.i32()
                    case (2, .i32): precision = try r.i32()
                    default: return false
                    }
                    return true
                }
                result = .decimal(scale: Int(scale), precision: Int(precision))
                return true
            case 6: result = .date
            case 7, 8:                                // TIME, TIMESTAMP
                var adjusted = false
                var unit = ParquetTimeUnit.millis
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .boolTrue), (1, .boolFalse): adjusted = r.bool(t)
                    case (2, .structure): unit = try ParquetTimeUnit.read(&r)
                    default: return false
                    }
                    return true
                }
                result = id == 7 ? .time(unit, adjustedToUTC: adjusted) : .timestamp(unit, adjustedToUTC: adjusted)
                return true
            case 10:                                  // INTEGER
                var width: Int = 64, signed = true
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .byte): width = Int(Int8(bitPattern: try r.byte()))
                    case (2, .boolTrue), (2, .boolFalse): signed = r.bool(t)
                    default: return false
                    }
                    return true
                }
                result = .integer(bitWidth: width, signed: signed)
                return true
            case 14: result = .uuid
            case 15: result = .float16
            default: return false
            }
            try r.skip(t)   // the empty struct of a type without parameters
            return true
        }
        return result
    }

    /// The annotation of a schema element: LogicalType when present, else ConvertedType (with
    /// the defaults the format specifies for it, e.g. TIMESTAMP_MILLIS is UTC-adjusted).
    init(_ element: SchemaElement) {
        if let logical = element.logicalType, logical != .none {
            self = logical
            return
        }
        switch element.convertedType {
        case 0?, 4?, 19?: self = .string                                       // UTF8, ENUM, JSON
        case 5?: self = .decimal(scale: Int(element.scale ?? 0), precision: Int(element.precision ?? 0))
        case 6?: self = .date
        case 7?: self = .time(.millis, adjustedToUTC: true)
        case 8?: self = .time(.micros, adjustedToUTC: true)
        case 9?: self = .timestamp(.millis, adjustedToUTC: true)
        case 10?: self = .timestamp(.micros, adjustedToUTC: true)
        case let c? where (11...14).contains(c): self = .integer(bitWidth: 8 << Int(c - 11), signed: false)
        case let c? where (15...18).contains(c): self = .integer(bitWidth: 8 << Int(c - 15), signed: true)
        default: self = .none
        }
    }
}

public enum ParquetTimeUnit: Sendable, Equatable {
    case millis, micros, nanos

    /// Units in one second, and the number of fraction digits written for the unit.
    var perSecond: Int64 { self == .millis ? 1_000 : self == .micros ? 1_000_000 : 1_000_000_000 }
    var digits: Int { self == .millis ? 3 : self == .micros ? 6 : 9 }

    /// The TimeUnit union.
    static func read(_ r: inout ThriftCompactReader) throws -> ParquetTimeUnit {
        var unit = ParquetTimeUnit.millis
        try r.structure { r, id, t in
            guard t == .structure, (1...3).contains(id) else { return false }
            unit = id == 1 ? .millis : id == 2 ? .micros : .nanos
            try r.skip(t)
            return true
        }
        return unit
    }
}
