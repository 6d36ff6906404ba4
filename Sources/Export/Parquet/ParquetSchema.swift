import Compression

/// The columns of a Parquet file capfilt writes: flat columns, and one level of groups (the
/// `image` struct of Hugging Face `datasets`: `{bytes: binary, path: string}`).
public indirect enum ParquetField: Sendable, Equatable {
    case column(String, ParquetKind, nullable: Bool)
    case group(String, [ParquetField], nullable: Bool)

    public var name: String {
        switch self {
        case .column(let name, _, _), .group(let name, _, _): return name
        }
    }

    var nullable: Bool {
        switch self {
        case .column(_, _, let nullable), .group(_, _, let nullable): return nullable
        }
    }
}

/// A leaf column's type: its physical type and, for strings, the logical one.
public enum ParquetKind: Sendable, Equatable {
    case int64, double, boolean, string, binary

    /// Parquet's physical `Type` number.
    var physicalType: Int32 {
        switch self {
        case .boolean: return 0
        case .int64: return 2
        case .double: return 5
        case .string, .binary: return 6
        }
    }
}

/// One value of a row: a leaf's value, `.group` with one value per child, or null.
public enum ParquetCell: Sendable, Equatable {
    case null
    case int64(Int64)
    case double(Double)
    case boolean(Bool)
    case string(String)
    case bytes([UInt8])
    case group([ParquetCell])

    public static func optional(_ s: String?) -> ParquetCell { s.map { .string($0) } ?? .null }
    public static func optional(_ i: Int?) -> ParquetCell { i.map { .int64(Int64($0)) } ?? .null }
    public static func optional(_ d: Double?) -> ParquetCell { d.map { .double($0) } ?? .null }
}

/// A leaf of the schema with where it sits: its path and its largest definition level (one per
/// nullable field on the path).
struct ParquetLeaf {
    var path: [String]
    var kind: ParquetKind
    var maxDefinition: Int
    /// Positions: the top-level field, then the child within a group (nil for a flat column).
    var field: Int
    var child: Int?

    static func leaves(of schema: [ParquetField]) -> [ParquetLeaf] {
        var out: [ParquetLeaf] = []
        for (i, field) in schema.enumerated() {
            switch field {
            case .column(let name, let kind, let nullable):
                out.append(ParquetLeaf(path: [name], kind: kind, maxDefinition: nullable ? 1 : 0, field: i, child: nil))
            case .group(let name, let children, let nullable):
                for (j, child) in children.enumerated() {
                    guard case .column(let childName, let kind, let childNullable) = child else { continue }
                    out.append(ParquetLeaf(path: [name, childName], kind: kind,
                                           maxDefinition: (nullable ? 1 : 0) + (childNullable ? 1 : 0), field: i, child: j))
                }
            }
        }
        return out
    }
}

extension BlockCodec {
    /// Parquet's `CompressionCodec` number, for the codecs the writer encodes.
    var parquetCode: Int32? {
        switch self {
        case .uncompressed: return 0
        case .snappy: return 1
        case .zstd: return 6
        default: return nil
        }
    }
}
