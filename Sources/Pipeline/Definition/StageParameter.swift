import Catalog

/// A stage parameter declared once: its YAML key, type, default and help, and how to read it
/// back as a Swift value. A stage reads `parameters[Keys.threshold]` and gets a `Double`; a
/// misspelt key is a compile error, and the default is written in exactly one place (this
/// declaration), from which validation, fingerprints and docs/parameters.md are all derived.
///
///     static let threshold = StageParameter("threshold", .double(0...1), default: 0.5)
///     static let model = StageParameter<String?>.optional("model", .path(mustExist: true))
public struct StageParameter<Value>: Sendable {
    public let spec: ParameterSpec
    let read: @Sendable (ParameterValue?) -> Value
}

/// A Swift type a parameter value can be read as.
public protocol ParameterConvertible: Sendable {
    init?(parameterValue: ParameterValue)
    var parameterValue: ParameterValue { get }
}

extension StageParameter where Value: ParameterConvertible {
    /// A key with a default: reading it always gives a value.
    public init(_ name: String, _ type: ParameterType, default value: Value, affectsResults: Bool = true,
                help: String = "", appliesWhen: ParameterCondition? = nil) {
        spec = ParameterSpec(name, type, default: value.parameterValue, affectsResults: affectsResults, help: help,
                             appliesWhen: appliesWhen)
        read = { $0.flatMap(Value.init(parameterValue:)) ?? value }
    }

    /// A key the file must give (no default). Validation refuses a file without it, so reading
    /// it after validation always finds it.
    public static func required(_ name: String, _ type: ParameterType, help: String = "") -> StageParameter {
        StageParameter(spec: ParameterSpec(name, type, help: help)) { value in
            guard let v = value.flatMap(Value.init(parameterValue:)) else { preconditionFailure("`\(name)` was validated as required") }
            return v
        }
    }
}

extension StageParameter {
    /// A key that may be left out, with no default: reading it gives nil when absent.
    public static func optional<Wrapped: ParameterConvertible>(
        _ name: String, _ type: ParameterType, affectsResults: Bool = true, help: String = "",
        appliesWhen: ParameterCondition? = nil
    ) -> StageParameter<Wrapped?> where Value == Wrapped? {
        StageParameter<Wrapped?>(spec: ParameterSpec(name, type, optional: true, affectsResults: affectsResults, help: help,
                                                     appliesWhen: appliesWhen)) { $0.flatMap(Wrapped.init(parameterValue:)) }
    }
}

extension StageParameter where Value: CaseIterable & RawRepresentable & Sendable, Value.RawValue == String {
    /// A key whose words are an enum's raw values.
    public init(_ name: String, choices _: Value.Type = Value.self, default value: Value, affectsResults: Bool = true,
                help: String = "", appliesWhen: ParameterCondition? = nil) {
        spec = ParameterSpec(name, .choice(Value.allCases.map(\.rawValue)), default: .string(value.rawValue),
                             affectsResults: affectsResults, help: help, appliesWhen: appliesWhen)
        read = { $0?.stringValue.flatMap(Value.init(rawValue:)) ?? value }
    }
}

extension StageParameter {
    /// An optional key whose words are an enum's raw values.
    public static func optional<Choice: CaseIterable & RawRepresentable & Sendable>(
        _ name: String, choices _: Choice.Type, affectsResults: Bool = true, help: String = "",
        appliesWhen: ParameterCondition? = nil
    ) -> StageParameter<Choice?> where Value == Choice?, Choice.RawValue == String {
        StageParameter<Choice?>(spec: ParameterSpec(name, .choice(Choice.allCases.map(\.rawValue)), optional: true,
                                                    affectsResults: affectsResults, help: help, appliesWhen: appliesWhen)) {
            $0?.stringValue.flatMap(Choice.init(rawValue:))
        }
    }
}

extension StageParameters {
    /// The value of a declared key (its default when the file left it out).
    public subscript<Value>(_ key: StageParameter<Value>) -> Value { key.read(values[key.spec.name]) }

    /// Whether the file gave the key itself (rather than its default applying).
    public func isGiven<Value>(_ key: StageParameter<Value>) -> Bool { values[key.spec.name] != nil }
}

extension String: ParameterConvertible {
    public init?(parameterValue: ParameterValue) {
        guard case .string(let s) = parameterValue else { return nil }
        self = s
    }
    public var parameterValue: ParameterValue { .string(self) }
}

extension Int: ParameterConvertible {
    public init?(parameterValue: ParameterValue) {
        guard case .int(let i) = parameterValue else { return nil }
        self = i
    }
    public var parameterValue: ParameterValue { .int(self) }
}

extension Double: ParameterConvertible {
    /// YAML writes `1` for 1.0: an integer reads as a number too.
    public init?(parameterValue: ParameterValue) {
        switch parameterValue {
        case .double(let d): self = d
        case .int(let i): self = Double(i)
        default: return nil
        }
    }
    public var parameterValue: ParameterValue { .double(self) }
}

extension Bool: ParameterConvertible {
    public init?(parameterValue: ParameterValue) {
        guard case .bool(let b) = parameterValue else { return nil }
        self = b
    }
    public var parameterValue: ParameterValue { .bool(self) }
}

/// A list of words (e.g. `origins: [web, human]`).
extension Array: ParameterConvertible where Element: ParameterConvertible {
    public init?(parameterValue: ParameterValue) {
        guard case .list(let items) = parameterValue else { return nil }
        let converted = items.compactMap(Element.init(parameterValue:))
        guard converted.count == items.count else { return nil }
        self = converted
    }
    public var parameterValue: ParameterValue { .list(map(\.parameterValue)) }
}

/// A value kept as validated, for lists of mappings that the stage reads item by item.
extension ParameterValue: ParameterConvertible {
    public init?(parameterValue: ParameterValue) { self = parameterValue }
    public var parameterValue: ParameterValue { self }
}

/// An enum of words (a `choice` key, or the items of a list of them).
extension ParameterConvertible where Self: RawRepresentable, RawValue == String {
    public init?(parameterValue: ParameterValue) {
        guard let word = parameterValue.stringValue, let value = Self(rawValue: word) else { return nil }
        self = value
    }
    public var parameterValue: ParameterValue { .string(rawValue) }
}

/// `origins: [web, human]` reads as text origins.
extension TextOrigin: ParameterConvertible {}
