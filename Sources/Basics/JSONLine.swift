/// Command-line output lines (capfilt, capfilt-bench) are `JSONValue`s with objects in the
/// documented key order (`orderedObject`). Numbers are printed as Swift prints them (`1e-05`,
/// `100.0`), as these lines always have been, so scripts reading them see the same text.
extension JSONValue {
    /// A Float as Swift prints it; null when not finite.
    public static func printed(_ value: Float) -> JSONValue { value.isFinite ? .number("\(value)") : .null }

    /// A Double as Swift prints it; null when not finite.
    public static func printed(_ value: Double) -> JSONValue { value.isFinite ? .number("\(value)") : .null }

    /// One compact output line (no newline).
    public var lineText: String { DeterministicJSON(escaping: .lineBreaksAndTabs).encode(self) }
}
