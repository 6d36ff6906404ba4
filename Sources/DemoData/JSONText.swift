import Basics

/// Hand-written JSON, so the bytes of every manifest are fixed (key order, spacing, escapes).
enum JSONText {
    /// A string literal, with the escapes the demo manifests have always had.
    static func string(_ s: String) -> String {
        DeterministicJSON.quote(s, escaping: .lineBreaksAndTabs)
    }

    /// `{"a": 1, "b": "x"}` from already-encoded values, in the given order.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    static func array(_ items: [String], multiline: Bool = false) -> String {
        guard multiline else { return "[" + items.joined(separator: ", ") + "]" }
        return items.isEmpty ? "[]" : "[\n  " + items.joined(separator: ",\n  ") + "\n]"
    }
}
