import Foundation
import Yams

/// Checks YAML nodes against parameter specs and turns them into `ParameterValue`s.
struct ParameterValidator {
    let file: String
    let baseFolder: String
    var checkPaths = true

    /// The entries of a mapping as (key, node) in file order; keys must be plain strings and
    /// appear once.
    func entries(of mapping: Node.Mapping, context: String?) throws -> [(String, (key: Node, value: Node))] {
        var seen: Set<String> = []
        var out: [(String, (key: Node, value: Node))] = []
        for pair in mapping {
            guard let key = pair.key.scalar?.string else {
                throw PipelineError(file: file, line: pair.key.mark?.line, key: context, "keys must be plain words")
            }
            guard seen.insert(key).inserted else {
                throw PipelineError(file: file, line: pair.key.mark?.line, key: join(context, key), "key given twice")
            }
            out.append((key, pair))
        }
        return out
    }

    /// Validates `mapping` against `specs`: unknown keys, missing required keys, types, ranges,
    /// paths. Keys in `allowExtra` are skipped (the caller reads them).
    func validate(mapping: Node.Mapping, specs: [ParameterSpec], context: String?, allowExtra: Set<String> = []) throws
        -> StageParameters
    {
        var values: [String: ParameterValue] = [:]
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        for (key, pair) in try entries(of: mapping, context: context) {
            if allowExtra.contains(key) { continue }
            guard let spec = byName[key] else {
                let known = (specs.map(\.name) + allowExtra.sorted()).joined(separator: ", ")
                throw PipelineError(file: file, line: pair.key.mark?.line, key: join(context, key),
                                    "unknown key (expected one of: \(known))")
            }
            values[key] = try value(pair.value, type: spec.type, key: join(context, key))
        }
        for spec in specs where values[spec.name] == nil {
            if let d = spec.defaultValue {
                values[spec.name] = d
            } else if !spec.optional {
                throw PipelineError(file: file, line: mapping.mark?.line, key: join(context, spec.name),
                                    "missing (\(spec.help.isEmpty ? spec.type.name : spec.help))")
            }
        }
        return StageParameters(values: values, specs: specs)
    }

    func value(_ node: Node, type: ParameterType, key: String) throws -> ParameterValue {
        let line = node.mark?.line
        func fail(_ problem: String) -> PipelineError { PipelineError(file: file, line: line, key: key, problem) }
        switch type {
        case .string:
            guard let s = node.scalar?.string else { throw fail("expected \(type.name)") }
            return .string(s)
        case .choice(let words):
            guard let s = node.scalar?.string, words.contains(s) else { throw fail("expected \(type.name)") }
            return .string(s)
        case .int(let range):
            guard let s = node.scalar?.string, let i = Int(s) else { throw fail("expected \(type.name)") }
            guard range.contains(i) else { throw fail("\(i) is out of range (expected \(type.name))") }
            return .int(i)
        case .double(let range):
            guard let s = node.scalar?.string, let d = Double(s), d.isFinite else { throw fail("expected \(type.name)") }
            guard range.contains(d) else { throw fail("\(s) is out of range (expected \(type.name))") }
            return .double(d)
        case .bool:
            guard let s = node.scalar?.string, let b = ["true": true, "false": false, "yes": true, "no": false][s.lowercased()] else {
                throw fail("expected \(type.name)")
            }
            return .bool(b)
        case .path(let mustExist):
            guard let s = node.scalar?.string, !s.isEmpty else { throw fail("expected \(type.name)") }
            let resolved = s.hasPrefix("/") ? s : (baseFolder as NSString).appendingPathComponent(s)
            let standardized = (resolved as NSString).standardizingPath
            if mustExist, checkPaths {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: standardized, isDirectory: &isFolder) else {
                    throw fail("\(s) does not exist (looked for \(standardized))")
                }
                // A folder is read by listing it and opening what is inside: it needs both.
                if access(standardized, isFolder.boolValue ? R_OK | X_OK : R_OK) != 0 {
                    let reason = String(cString: strerror(errno))
                    throw fail("\(s) is not readable: \(reason) (\(standardized))")
                }
            }
            return .string(standardized)
        case .list(let item):
            let items: [Node]
            if let seq = node.sequence { items = Array(seq) } else { throw fail("expected \(type.name)") }
            return .list(try items.enumerated().map { try value($0.element, type: item, key: "\(key)[\($0.offset)]") })
        case .object(let specs):
            guard let m = node.mapping else { throw fail("expected a mapping") }
            return .object(try validate(mapping: m, specs: specs, context: key).values)
        }
    }

    /// A node as a value without a schema (for sections other code validates later).
    func plain(_ node: Node) -> ParameterValue {
        if let m = node.mapping {
            var o: [String: ParameterValue] = [:]
            for pair in m { if let k = pair.key.scalar?.string { o[k] = plain(pair.value) } }
            return .object(o)
        }
        if let s = node.sequence { return .list(s.map(plain)) }
        let text = node.scalar?.string ?? ""
        if let i = Int(text) { return .int(i) }
        if let d = Double(text) { return .double(d) }
        if text == "true" || text == "false" { return .bool(text == "true") }
        return .string(text)
    }

    private func join(_ context: String?, _ key: String) -> String { context.map { "\($0).\(key)" } ?? key }
}
