/// A number a rule reads (an image side, LAION's `punsafe`, ...): absent, a number, or text that
/// is not a finite number. An absent value passes the rule (the manifest does not have that
/// column); an unreadable one fails it, so a broken column never slips through a threshold.
public enum GateValue: Sendable, Equatable {
    case absent
    case number(Double)
    case unreadable(String)

    /// A manifest's text form (`"0.31"`, `"512"`; nil: absent).
    public init(text: String?) {
        guard let text else { self = .absent; return }
        // Spaces and tabs around a number are allowed (a CSV cell ` 0.3`); Foundation's trimming
        // costs more than the rest of a gate's work on a sample, so they are dropped here.
        var trimmed = Substring(text)
        while let c = trimmed.first, c == " " || c == "\t" { trimmed = trimmed.dropFirst() }
        while let c = trimmed.last, c == " " || c == "\t" { trimmed = trimmed.dropLast() }
        if let d = Double(trimmed), d.isFinite { self = .number(d) } else { self = .unreadable(text) }
    }

    public init(_ value: Int?) { self = value.map { .number(Double($0)) } ?? .absent }
}
