import Basics
import Catalog
import Foundation

/// What `capfilt inspect` can list, over every shard catalog.
public enum InspectView: String, CaseIterable, Sendable {
    /// Texts a gate or the filter dropped: key, origin, text, ITM score, threshold, reason, and a
    /// synthetic caption's rank among its sample's captions with its ranking score.
    case dropped
    /// Samples that failed a per-sample stage: stage, status, error, URL, key.
    case failures
    /// Duplicate samples dedup left out, with the sample kept in their place, kind and distance.
    case duplicates
    /// Malformed manifest rows: file, line, reason.
    case problems
}

/// Which rows to keep. Every field is optional; a row must match all that are given.
public struct InspectFilter: Sendable, Equatable {
    /// The stage the row belongs to (failures: the failing stage; dropped: the filter stage).
    public var stage: String?
    /// Failures: the status; duplicates: the kind (exact, near, url); dropped: `dropped`;
    /// problems: `malformed`.
    public var status: String?
    /// The manifest source of the sample (or of the manifest, for problems).
    public var source: String?
    /// A substring of the reason, ignoring case (failures: the error; duplicates: the kind).
    public var reason: String?

    public init(stage: String? = nil, status: String? = nil, source: String? = nil, reason: String? = nil) {
        self.stage = stage; self.status = status; self.source = source; self.reason = reason
    }
}

/// One cell of an inspect table.
public enum InspectCell: Sendable, Equatable {
    case text(String)
    case int(Int)
    /// A probability or similarity.
    case score(Double)
    case null
}

/// Rows of one view, with the columns in their order.
public struct InspectTable: Sendable, Equatable {
    public var view: InspectView
    public var columns: [String]
    public var rows: [[InspectCell]]
    /// Rows that matched the filters, before `sample` and `limit`.
    public var matched: Int

    public init(view: InspectView, columns: [String], rows: [[InspectCell]], matched: Int) {
        self.view = view; self.columns = columns; self.rows = rows; self.matched = matched
    }

    /// The value of `column` in every row (tests and scripts).
    public func values(_ column: String) -> [InspectCell] {
        guard let i = columns.firstIndex(of: column) else { return [] }
        return rows.map { $0[i] }
    }
}

/// How `capfilt inspect` writes a table.
public enum InspectFormat: String, CaseIterable, Sendable {
    /// Aligned columns for a terminal (long texts shortened).
    case table
    /// RFC 4180 CSV with a header row.
    case csv
    /// One JSON object per row, keys in column order.
    case jsonl
}

/// A request the pipeline cannot answer as asked (an unknown stage, a stage of the wrong kind).
public struct InspectError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A row before filtering: what the filters look at, and the cells.
private struct InspectRow {
    var stage: String
    var status: String
    var source: String
    var reason: String
    var cells: [InspectCell]
}

extension PipelineRunner {
    /// The rows of `view` over every shard (read-only snapshots; safe while a run writes),
    /// filtered; then, with `sample`, `sample` rows drawn at random (seeded by `seed`, kept in
    /// catalog order); then at most `limit` of them.
    public func inspect(_ view: InspectView, filter: InspectFilter = InspectFilter(), sample: Int? = nil,
                        seed: UInt64 = 0, limit: Int? = nil) throws -> InspectTable {
        let fps = try fingerprints()
        let catalogs = try openCatalogs().compactMap { $0 }
        if let name = filter.stage, pipeline.stage(name) == nil {
            throw InspectError("no such stage: \(name) (stages: \(pipeline.stages.map(\.name).joined(separator: ", ")))")
        }
        let columns: [String]
        var rows: [InspectRow] = []
        switch view {
        case .dropped:
            columns = ["stage", "source", "key", "origin", "text", "itm", "threshold", "reason", "rank", "rank_score"]
            // Gates and filters in pipeline order: a caption a gate dropped never reaches a filter.
            for f in try stages(ofTypes: ["gate", "filter"], named: filter.stage, view: view) {
                if f.type.name == "gate" {
                    guard let fp = fps[f.name] else { continue }
                    for c in catalogs {
                        for d in try c.read({ try $0.gatedTextRows(stage: f.name, fingerprint: fp) }) {
                            rows.append(InspectRow(stage: f.name, status: "dropped", source: d.source, reason: d.reason, cells: [
                                .text(f.name), .text(d.source), .text(d.key), .text(d.origin), .text(d.text), .null, .null, .text(d.reason), .null, .null,
                            ]))
                        }
                    }
                    continue
                }
                guard let judge = DatasetCounts.textJudge(f, pipeline: pipeline, fingerprints: fps) else { continue }
                for c in catalogs {
                    for d in try c.read({ try $0.droppedTexts(filter: judge.filter, syntheticFingerprint: judge.synthetic) }) {
                        rows.append(InspectRow(stage: f.name, status: "dropped", source: d.source, reason: d.reason, cells: [
                            .text(f.name), .text(d.source), .text(d.key), .text(d.origin), .text(d.text),
                            d.itmProbability.map(InspectCell.score) ?? .null, d.threshold.map(InspectCell.score) ?? .null,
                            .text(d.reason), d.rank.map { .int($0.position) } ?? .null, d.rank.map { .score($0.score) } ?? .null,
                        ]))
                    }
                }
            }
        case .failures:
            columns = ["stage", "status", "error", "url", "source", "key"]
            let scope: [StageDefinition]
            if let name = filter.stage {
                let s = pipeline.stage(name)!
                guard s.type.kind == .perSample else {
                    throw InspectError("\(name) is a \(s.type.kind == .source ? "source" : "whole-dataset") stage: "
                        + (s.type.kind == .source ? "its failures are the manifest problems (inspect problems)" : "it has no per-sample failures"))
                }
                scope = [s]
            } else {
                scope = pipeline.stages.filter { $0.type.kind == .perSample }
            }
            // Stage by stage, in pipeline order; within a stage, shard by shard in sample order.
            for s in scope {
                for c in catalogs {
                    for f in try c.read({ try $0.failures(stage: s.name, fingerprint: fps[s.name]!) }) {
                        rows.append(InspectRow(stage: s.name, status: f.status.rawValue, source: f.source, reason: f.error ?? "", cells: [
                            .text(s.name), .text(f.status.rawValue), f.error.map(InspectCell.text) ?? .null,
                            f.location.map(InspectCell.text) ?? .null, .text(f.source), .text(f.key),
                        ]))
                    }
                }
            }
        case .duplicates:
            columns = ["stage", "source", "key", "kind", "kept", "distance"]
            let dedup = try stages(ofType: "dedup", named: filter.stage, view: view)
            if let stage = dedup.first?.name {
                for c in catalogs {
                    for d in try c.read({ try $0.duplicateSamples() }) {
                        rows.append(InspectRow(stage: stage, status: d.kind, source: d.source, reason: d.kind, cells: [
                            .text(stage), .text(d.source), .text(d.key), .text(d.kind), .text(d.kept), .int(d.distance),
                        ]))
                    }
                }
            }
        case .problems:
            columns = ["stage", "source", "file", "line", "record", "reason", "excerpt"]
            let sources = pipeline.stages.filter { $0.type.kind == .source }
            if let name = filter.stage, !sources.contains(where: { $0.name == name }) {
                throw InspectError("\(name) is not a source stage: manifest problems belong to \(sources.map(\.name).joined(separator: ", "))")
            }
            if let stage = sources.first?.name {
                for c in catalogs {
                    for p in try c.read({ try $0.manifestProblems() }) {
                        rows.append(InspectRow(stage: stage, status: "malformed", source: p.source, reason: p.reason, cells: [
                            .text(stage), .text(p.source), .text(p.file), p.line.map(InspectCell.int) ?? .null, p.record.map(InspectCell.int) ?? .null,
                            .text(p.reason), p.excerpt.map(InspectCell.text) ?? .null,
                        ]))
                    }
                }
            }
        }
        let needle = filter.reason?.lowercased()
        var kept = rows.filter { row in
            (filter.stage == nil || row.stage == filter.stage)
                && (filter.status == nil || row.status == filter.status)
                && (filter.source == nil || row.source == filter.source)
                && (needle == nil || needle!.isEmpty || row.reason.lowercased().contains(needle!))
        }
        let matched = kept.count
        if let n = sample, n < kept.count {
            kept = Self.draw(n, from: kept, seed: seed)
        }
        if let limit, limit < kept.count { kept = Array(kept.prefix(max(0, limit))) }
        return InspectTable(view: view, columns: columns, rows: kept.map(\.cells), matched: matched)
    }

    /// The stages of `type` (only `name`, when given: then it must be of that type).
    private func stages(ofType type: String, named name: String?, view: InspectView) throws -> [StageDefinition] {
        try stages(ofTypes: [type], named: name, view: view)
    }

    /// The stages of any of `types`, in pipeline order (only `name` when given).
    private func stages(ofTypes types: [String], named name: String?, view: InspectView) throws -> [StageDefinition] {
        let all = pipeline.stages.filter { types.contains($0.type.name) }
        guard let name else { return all }
        guard let s = all.first(where: { $0.name == name }) else {
            let listed = all.isEmpty ? "the pipeline has none" : all.map(\.name).joined(separator: ", ")
            let kind = types.joined(separator: " or ")
            throw InspectError("\(name) is not a \(kind) stage: inspect \(view.rawValue) lists the \(kind) stages' rows (\(listed))")
        }
        return [s]
    }

    /// `n` of `rows` drawn without replacement by a seeded generator, in their original order.
    private static func draw<T>(_ n: Int, from rows: [T], seed: UInt64) -> [T] {
        var indices = Array(rows.indices)
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for i in 0..<min(n, indices.count) {
            let j = i + Int(next() % UInt64(indices.count - i))
            indices.swapAt(i, j)
        }
        return indices.prefix(max(0, n)).sorted().map { rows[$0] }
    }
}

extension InspectTable {
    /// The table as `format` writes it, every line ending in a newline (a table with no rows:
    /// the header only, for table and csv; nothing for jsonl).
    public func render(_ format: InspectFormat) -> String {
        switch format {
        case .table: return renderTable()
        case .csv:
            return ([columns.map(Self.csvField)] + rows.map { $0.map { Self.csvField(Self.plain($0)) } })
                .map { $0.joined(separator: ",") + "\n" }.joined()
        case .jsonl:
            return rows.map { row in
                JSONValue.orderedObject(zip(columns, row).map { ($0, Self.json($1)) }).lineText + "\n"
            }.joined()
        }
    }

    /// Longest cell shown by the table format, in characters.
    public static let tableCellWidth = 60

    private func renderTable() -> String {
        let cells = rows.map { $0.map(Self.tableText) }
        var widths = columns.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        let numeric = columns.indices.map { i in
            !rows.isEmpty && rows.allSatisfy { row in
                switch row[i] { case .int, .score, .null: return true; case .text: return false }
            }
        }
        func line(_ row: [String]) -> String {
            var out = ""
            for (i, c) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                let cell = numeric[i] ? pad + c : (i == row.count - 1 ? c : c + pad)
                out += (i == 0 ? "" : "  ") + cell
            }
            return out + "\n"
        }
        return line(columns) + cells.map(line).joined()
    }

    private static func plain(_ cell: InspectCell) -> String {
        switch cell {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .score(let d): return String(d)
        case .null: return ""
        }
    }

    private static func tableText(_ cell: InspectCell) -> String {
        switch cell {
        case .text(let s):
            let flat = s.map { $0.isNewline || $0 == "\t" ? " " : String($0) }.joined()
            return flat.count > tableCellWidth ? String(flat.prefix(tableCellWidth - 1)) + "…" : flat
        case .int(let i): return String(i)
        case .score(let d): return String(format: "%.4f", d)
        case .null: return "-"
        }
    }

    private static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func json(_ cell: InspectCell) -> JSONValue {
        switch cell {
        case .text(let s): return .string(s)
        case .int(let i): return .int(i)
        case .score(let d): return .printed(d)
        case .null: return .null
        }
    }
}
