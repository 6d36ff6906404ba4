import Foundation
import Yams

/// Reads a pipeline file and validates all of it (keys, types, ranges, paths, the stage graph)
/// before anything runs. Every problem is one `PipelineError` naming file, line and key.
public struct PipelineLoader: Sendable {
    public var registry: StageRegistry
    /// Whether paths that must exist (manifests, models) are checked; off only to lint a file
    /// written for another machine.
    public var checkPaths: Bool

    public init(registry: StageRegistry, checkPaths: Bool = true) {
        self.registry = registry
        self.checkPaths = checkPaths
    }

    static let topLevelKeys: [ParameterSpec] = [
        ParameterSpec("dataset", .string, help: "Name of the dataset."),
        ParameterSpec("description", .string, optional: true),
        ParameterSpec("workdir", .path(mustExist: false), optional: true,
                      help: "Catalogs, blobs, exports and reports (default: work/<dataset> next to the file)."),
        ParameterSpec("shards", .int(1...100_000), default: .int(1)),
        ParameterSpec("threads", .int(1...1024), default: .int(2)),
        ParameterSpec("max_failure_share", .double(0...1), default: .double(FailureLimit.standard.maxShare),
                      help: "Largest share of a source's samples a per-sample stage may fail before the run stops."),
        ParameterSpec("failure_share_min_samples", .int(1...Int.max), default: .int(FailureLimit.standard.minSamples),
                      help: "Sources with fewer samples done in a stage are not held to max_failure_share."),
        ParameterSpec("executor", .object([]), optional: true),
        ParameterSpec("stages", .object([])),
    ]

    public func load(path: String) throws -> PipelineDefinition {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineError(file: path, line: nil, key: nil, "cannot read the file")
        }
        return try load(yaml: text, path: path)
    }

    public func load(yaml text: String, path: String) throws -> PipelineDefinition {
        let baseFolder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineError(file: path, line: 1, key: nil, "the file is empty")
            }
            root = node
        } catch let e as PipelineError {
            throw e
        } catch let e as YamlError {
            throw PipelineError(file: path, line: Self.line(of: e), key: nil, "YAML syntax error: \(Self.problem(of: e))")
        }
        let validator = ParameterValidator(file: path, baseFolder: baseFolder, checkPaths: checkPaths)
        guard let top = root.mapping else {
            throw PipelineError(file: path, line: root.mark?.line, key: nil, "expected a mapping with `dataset` and `stages`")
        }
        let topEntries = try validator.entries(of: top, context: nil)
        let known = Set(Self.topLevelKeys.map(\.name))
        for (key, node) in topEntries where !known.contains(key) {
            throw PipelineError(file: path, line: node.key.mark?.line, key: key,
                                "unknown key (expected one of: \(Self.topLevelKeys.map(\.name).joined(separator: ", ")))")
        }
        let scalars = Self.topLevelKeys.filter { $0.name != "stages" && $0.name != "executor" }
        let topValues = try validator.validate(mapping: top, specs: scalars, context: nil, allowExtra: ["stages", "executor"])
        guard let dataset = topValues.string("dataset") else { throw PipelineError(file: path, line: nil, key: "dataset", "missing") }
        let workdir = topValues.string("workdir") ?? (baseFolder as NSString).appendingPathComponent("work/\(dataset)")

        var executor: [String: ParameterValue] = [:]
        if let e = topEntries.first(where: { $0.0 == "executor" })?.1 {
            guard let m = e.value.mapping else {
                throw PipelineError(file: path, line: e.value.mark?.line, key: "executor", "expected a mapping")
            }
            for (k, v) in try validator.entries(of: m, context: "executor") { executor[k] = validator.plain(v.value) }
        }

        guard let stagesEntry = topEntries.first(where: { $0.0 == "stages" })?.1 else {
            throw PipelineError(file: path, line: nil, key: "stages", "missing (a mapping of stage name to settings)")
        }
        guard let stagesNode = stagesEntry.value.mapping, !stagesNode.isEmpty else {
            throw PipelineError(file: path, line: stagesEntry.value.mark?.line, key: "stages", "expected a non-empty mapping of stages")
        }
        var stages: [StageDefinition] = []
        for (name, entry) in try validator.entries(of: stagesNode, context: "stages") {
            stages.append(try stage(name: name, entry: entry, validator: validator))
        }
        let ordered = try StageGraph(file: path, stages: stages).ordered()
        for s in ordered {
            try checkRequirements(s, in: ordered, file: path)
        }
        var definition = PipelineDefinition(file: path, dataset: dataset, workdir: workdir, shards: topValues.int("shards") ?? 1,
                                            threads: topValues.int("threads") ?? 2, stages: ordered, executor: executor)
        definition.failureLimit = FailureLimit(
            maxShare: topValues.double("max_failure_share") ?? FailureLimit.standard.maxShare,
            minSamples: topValues.int("failure_share_min_samples") ?? FailureLimit.standard.minSamples)
        if checkPaths {
            try checkWorkdir(workdir, given: topValues.string("workdir") != nil, file: path,
                             line: topEntries.first(where: { $0.0 == "workdir" })?.1.value.mark?.line)
            for s in ordered {
                guard let check = s.type.check else { continue }
                try check(StageSetup(definition: s, pipeline: definition))
            }
        }
        return definition
    }

    /// The workdir must be a folder capfilt can write, or be creatable: its nearest existing
    /// parent writable. A run that could not write its catalog would otherwise fail only after
    /// the checks, or, worse, part-way.
    private func checkWorkdir(_ workdir: String, given: Bool, file: String, line: Int?) throws {
        let fm = FileManager.default
        func fail(_ problem: String) -> PipelineError {
            PipelineError(file: file, line: line, key: "workdir", given ? problem : problem + " (the default workdir; set `workdir:`)")
        }
        var folder = workdir
        var isFolder: ObjCBool = false
        while !fm.fileExists(atPath: folder, isDirectory: &isFolder) {
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { return }
            folder = parent
        }
        guard isFolder.boolValue else {
            throw fail(folder == workdir ? "\(workdir) is not a folder" : "\(workdir) cannot be created: \(folder) is not a folder")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw fail(folder == workdir ? "\(workdir) is not writable (\(String(cString: strerror(errno))))"
                       : "\(workdir) cannot be created: \(folder) is not writable (\(String(cString: strerror(errno))))")
        }
    }

    private func stage(name: String, entry: (key: Node, value: Node), validator: ParameterValidator) throws -> StageDefinition {
        let context = "stages.\(name)"
        let mapping: Node.Mapping
        if let m = entry.value.mapping {
            mapping = m
        } else if entry.value.scalar?.string == "" || entry.value.tag.rawValue == Tag.Name.null.rawValue {
            mapping = Node.Mapping([])
        } else {
            throw PipelineError(file: validator.file, line: entry.value.mark?.line, key: context, "expected a mapping of settings")
        }
        let entries = try validator.entries(of: mapping, context: context)
        var typeName = name
        if let t = entries.first(where: { $0.0 == "type" })?.1 {
            guard let s = t.value.scalar?.string else {
                throw PipelineError(file: validator.file, line: t.value.mark?.line, key: "\(context).type", "expected a stage type name")
            }
            typeName = s
        }
        guard let type = registry[typeName] else {
            let line = entries.first(where: { $0.0 == "type" })?.1.value.mark?.line ?? entry.key.mark?.line
            throw PipelineError(file: validator.file, line: line, key: context,
                                "unknown stage type `\(typeName)` (known: \(registry.types.keys.sorted().joined(separator: ", ")))")
        }
        var needs: [String] = []
        if let n = entries.first(where: { $0.0 == "needs" })?.1 {
            let items = n.value.sequence.map(Array.init) ?? (n.value.scalar != nil ? [n.value] : nil)
            guard let items, items.allSatisfy({ $0.scalar != nil }) else {
                throw PipelineError(file: validator.file, line: n.value.mark?.line, key: "\(context).needs", "expected a list of stage names")
            }
            needs = items.compactMap { $0.scalar?.string }
        }
        let values = try validator.validate(mapping: mapping, specs: type.parameters, context: context,
                                            allowExtra: ["type", "needs"])
        var keyLines: [String: Int] = [:]
        for (key, pair) in entries { keyLines[key] = pair.key.mark?.line }
        return StageDefinition(name: name, type: type, needs: needs,
                               parameters: StageParameters(values: values.values, specs: type.parameters),
                               line: entry.key.mark?.line, keyLines: keyLines)
    }

    private func checkRequirements(_ s: StageDefinition, in stages: [StageDefinition], file: String) throws {
        let definition = PipelineDefinition(file: file, dataset: "", workdir: "", shards: 1, threads: 1, stages: stages, executor: [:])
        let upstreamTypes = Set(definition.ancestors(of: s.name).compactMap { definition.stage($0)?.type.name })
        for required in s.type.requires where !upstreamTypes.contains(required) {
            throw PipelineError(file: file, line: s.line, key: "stages.\(s.name).needs",
                                "a `\(s.type.name)` stage needs a `\(required)` stage upstream (add it to `needs`)")
        }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let c, let p, _, _), .parser(let c, let p, _, _), .composer(let c, let p, _, _):
            return [c.map { "\($0.text)" }, p].compactMap { $0 }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _): return "duplicated keys: \(duplicates.joined(separator: ", "))"
        default: return "\(error)"
        }
    }
}
