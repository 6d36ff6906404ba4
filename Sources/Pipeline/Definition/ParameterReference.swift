/// docs/parameters.md, generated from the stage declarations: every stage, every key, its type,
/// range, default and whether it changes results. `capfilt stages --markdown` prints it; a test
/// fails when the committed file is stale.
extension StageRegistry {
    public func parameterReference() -> String {
        var out = """
        # Stage parameters

        Generated from the stage declarations in `Sources/Stages` by `capfilt stages --markdown`
        (`make docs` rewrites this file; a test fails when it is stale). Do not edit by hand.

        "Changes results" says whether a key enters the stage's fingerprint: changing such a key
        re-runs the stage and everything downstream of it; changing any other key re-runs
        nothing. A key that matters only under some settings enters the fingerprint only then.

        """
        for type in types.values.sorted(by: { $0.name < $1.name }) {
            out += "\n## `\(type.name)`\n\n\(type.summary)"
            out += " Runs \(type.kind.words)"
            out += type.requires.isEmpty ? ".\n\n" : "; needs a \(type.requires.map { "`\($0)`" }.joined(separator: " and a ")) stage upstream.\n\n"
            out += type.parameters.isEmpty ? "No parameters.\n" : ParameterSpec.table(type.parameters)
        }
        return out
    }
}

extension StageKind {
    var words: String {
        switch self {
        case .source: return "once per shard, resuming from its cursors"
        case .perSample: return "sample by sample"
        case .wholeDataset: return "over the whole dataset"
        }
    }
}

extension ParameterSpec {
    static func table(_ specs: [ParameterSpec]) -> String {
        var out = "| key | type | default | changes results | what it does |\n|---|---|---|---|---|\n"
        for spec in specs {
            let fallback = spec.defaultValue.map { "`\($0.canonical)`" } ?? (spec.optional ? "(none)" : "required")
            let changes = !spec.affectsResults ? "no" : spec.appliesWhen.map { "yes, \($0.summary)" } ?? "yes"
            out += "| `\(spec.name)` | \(spec.type.name.cell) | \(fallback.cell) | \(changes.cell) | \(spec.help.cell) |\n"
            if case .list(.object(let items)) = spec.type {
                out += "\nEach item of `\(spec.name)`:\n\n" + table(items) + "\n"
            } else if case .object(let items) = spec.type, !items.isEmpty {
                out += "\nKeys of `\(spec.name)`:\n\n" + table(items) + "\n"
            }
        }
        return out
    }
}

private extension String {
    /// Safe inside a Markdown table cell.
    var cell: String {
        var s = ""
        for c in self {
            switch c {
            case "|": s += "\\|"
            case "\n": s += " "
            default: s.append(c)
            }
        }
        return s
    }
}
