/// A JSON value for export records, written byte-for-byte the same on every run by
/// `DeterministicJSON`. `object` is written with its keys sorted by their UTF-8 bytes (a
/// dictionary has no order of its own); `orderedObject` keeps the order it is given, for formats
/// whose field order is part of the convention (BLIP's `{image, caption}`).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    /// Written as the shortest decimal that reads back as the same Double.
    case double(Double)
    /// Written as the shortest decimal that reads back as the same Float: a float32 score
    /// 0.1 is written `0.1`, not `0.10000000149011612`.
    case float(Float)
    /// A number already written as JSON text (a parsed id or score kept exactly as it was
    /// read, or a number formatted by the caller), copied as it is.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    case orderedObject([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.float(a), .float(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a == b
        case let (.orderedObject(a), .orderedObject(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A later duplicate key replaces an earlier one.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// `.string(value)`, or `.null` when there is none.
    public static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
}
