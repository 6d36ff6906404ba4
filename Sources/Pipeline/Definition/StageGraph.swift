/// The stages' `needs` graph: checks every name and orders the stages topologically (Kahn's
/// algorithm, ties broken by file order), reporting a cycle with its members.
struct StageGraph {
    let file: String
    let stages: [StageDefinition]

    func ordered() throws -> [StageDefinition] {
        let index = Dictionary(uniqueKeysWithValues: stages.enumerated().map { ($0.element.name, $0.offset) })
        for s in stages {
            for n in s.needs {
                guard index[n] != nil else {
                    throw PipelineError(file: file, line: s.line, key: "stages.\(s.name).needs",
                                        "unknown stage `\(n)` (stages: \(stages.map(\.name).joined(separator: ", ")))")
                }
                if n == s.name {
                    throw PipelineError(file: file, line: s.line, key: "stages.\(s.name).needs", "a stage cannot need itself")
                }
            }
        }
        var remaining = stages.map { Set($0.needs) }
        var done = [Bool](repeating: false, count: stages.count)
        var out: [StageDefinition] = []
        while out.count < stages.count {
            guard let next = stages.indices.first(where: { !done[$0] && remaining[$0].isEmpty }) else {
                let cycle = cycleMembers(remaining: remaining, done: done)
                let first = stages.first { cycle.contains($0.name) }!
                throw PipelineError(file: file, line: first.line, key: "stages.\(first.name).needs",
                                    "dependency cycle: \(cycle.joined(separator: " -> "))")
            }
            done[next] = true
            out.append(stages[next])
            for i in stages.indices { remaining[i].remove(stages[next].name) }
        }
        return out
    }

    /// Follows unmet needs from the first blocked stage until a name repeats: that loop is a cycle.
    private func cycleMembers(remaining: [Set<String>], done: [Bool]) -> [String] {
        let byName = Dictionary(uniqueKeysWithValues: stages.enumerated().map { ($0.element.name, $0.offset) })
        var path: [String] = []
        var current = stages.indices.first { !done[$0] }!
        while !path.contains(stages[current].name) {
            path.append(stages[current].name)
            let next = stages[current].needs.filter { remaining[current].contains($0) }.sorted().first!
            current = byName[next]!
        }
        let start = path.firstIndex(of: stages[current].name)!
        return Array(path[start...]) + [stages[current].name]
    }
}
