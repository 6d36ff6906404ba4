/// A stage parameter's value, after validation against its `ParameterSpec`.
public indirect enum ParameterValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case list([ParameterValue])
    case object([String: ParameterValue])

    /// A stable text form (sorted keys, shortest round-trip numbers): what fingerprints hash.
    public var canonical: String {
        switch self {
        case .string(let s): return "\"" + s.unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : String($0) }.joined() + "\""
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .list(let items): return "[" + items.map(\.canonical).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { "\"\($0)\":" + fields[$0]!.canonical }.joined(separator: ",") + "}"
        }
    }
}

/// The type a parameter must have.
public indirect enum ParameterType: Sendable {
    case string
    /// One of a closed set of words.
    case choice([String])
    case int(ClosedRange<Int>)
    case double(ClosedRange<Double>)
    case bool
    /// A file or folder, relative to the pipeline file's folder; checked to exist when `mustExist`.
    case path(mustExist: Bool)
    case list(ParameterType)
    case object([ParameterSpec])

    var name: String {
        switch self {
        case .string: return "a string"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .int(let r): return "an integer in \(r.lowerBound)...\(r.upperBound)"
        case .double(let r): return "a number in \(r.lowerBound)...\(r.upperBound)"
        case .bool: return "true or false"
        case .path: return "a path"
        case .list(let t): return "a list of \(t.name)"
        case .object: return "a mapping"
        }
    }
}

/// One key a stage (or a list item) accepts.
public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    /// nil: the key is required (unless `optional`).
    public var defaultValue: ParameterValue?
    /// A key that may be left out, with no default.
    public var optional: Bool
    /// Whether the value changes the stage's results (and so its fingerprint). Worker counts,
    /// batch sizes and the like do not.
    public var affectsResults: Bool
    public var help: String
    /// When the key only matters under some settings (the fixed threshold when no calibration
    /// file is given, say): nil means always. A key that does not apply stays out of the
    /// fingerprint, so changing it re-runs nothing.
    public var appliesWhen: ParameterCondition?

    public init(_ name: String, _ type: ParameterType, default defaultValue: ParameterValue? = nil,
                optional: Bool = false, affectsResults: Bool = true, help: String = "",
                appliesWhen: ParameterCondition? = nil) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.optional = optional
        self.affectsResults = affectsResults; self.help = help; self.appliesWhen = appliesWhen
    }

    /// The specs whose values enter the fingerprint of `parameters`.
    static func fingerprinted(_ specs: [ParameterSpec], in parameters: StageParameters) -> Set<String> {
        Set(specs.filter { $0.affectsResults && ($0.appliesWhen?.holds(parameters) ?? true) }.map(\.name))
    }
}

/// A stage's validated parameters, by name (defaults filled in).
public struct StageParameters: Sendable, Equatable {
    public var values: [String: ParameterValue]
    /// The names that take part in the fingerprint.
    var fingerprinted: Set<String>

    public init(values: [String: ParameterValue], fingerprinted: Set<String>) {
        self.values = values; self.fingerprinted = fingerprinted
    }

    /// Validated values with the fingerprinted keys derived from `specs`.
    public init(values: [String: ParameterValue], specs: [ParameterSpec]) {
        self.values = values
        self.fingerprinted = []
        self.fingerprinted = ParameterSpec.fingerprinted(specs, in: self)
    }

    public subscript(_ name: String) -> ParameterValue? { values[name] }

    public func string(_ name: String) -> String? {
        if case .string(let s)? = values[name] { return s }
        return nil
    }
    public func int(_ name: String) -> Int? {
        if case .int(let i)? = values[name] { return i }
        return nil
    }
    public func double(_ name: String) -> Double? {
        switch values[name] {
        case .double(let d)?: return d
        case .int(let i)?: return Double(i)
        default: return nil
        }
    }
    public func bool(_ name: String) -> Bool? {
        if case .bool(let b)? = values[name] { return b }
        return nil
    }
    public func list(_ name: String) -> [ParameterValue] {
        if case .list(let l)? = values[name] { return l }
        return []
    }

    /// The canonical text of the parameters that affect results.
    public var canonical: String {
        ParameterValue.object(values.filter { fingerprinted.contains($0.key) }).canonical
    }
}

extension ParameterValue {
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var objectValue: [String: ParameterValue]? { if case .object(let o) = self { return o }; return nil }
}

/// When a parameter matters, in words (for docs/parameters.md) and as a test on the values.
public struct ParameterCondition: Sendable {
    public var summary: String
    public var holds: @Sendable (StageParameters) -> Bool

    public init(_ summary: String, _ holds: @escaping @Sendable (StageParameters) -> Bool) {
        self.summary = summary; self.holds = holds
    }

    /// The file gives `key`.
    public static func given<V>(_ key: StageParameter<V>) -> ParameterCondition {
        let name = key.spec.name
        return ParameterCondition("when `\(name)` is given") { $0.values[name] != nil }
    }

    /// The file leaves `key` out.
    public static func absent<V>(_ key: StageParameter<V>) -> ParameterCondition {
        let name = key.spec.name
        return ParameterCondition("when `\(name)` is not given") { $0.values[name] == nil }
    }

    /// `key` has one of `values`.
    public static func when<V: Equatable & Sendable>(_ key: StageParameter<V>, in values: [V], _ words: String) -> ParameterCondition {
        ParameterCondition("when `\(key.spec.name)` is \(words)") { values.contains($0[key]) }
    }

    public static func && (a: ParameterCondition, b: ParameterCondition) -> ParameterCondition {
        ParameterCondition(a.summary + " and " + (b.summary.hasPrefix("when ") ? String(b.summary.dropFirst(5)) : b.summary)) { a.holds($0) && b.holds($0) }
    }
}
