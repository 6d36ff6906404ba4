import Foundation
import Report

/// The evaluate stage's two outputs: `results.json` (fixed keys, for scripts) and
/// `evaluation.json` (named metrics, which the report stage shows in its evaluation section).
enum EvaluationFiles {
    static let metricsFile = "evaluation.json"

    static func writeResults(_ values: [String: Double], keys: [String], to path: String) throws {
        let body = keys.map { key -> String in
            let v = values[key] ?? 0
            return "  \"\(key)\": " + (v.isFinite ? String(format: "%.6g", v) : "null")
        }.joined(separator: ",\n")
        try writeAtomically(Array("{\n\(body)\n}\n".utf8), to: path)
    }

    static func writeMetrics(_ metrics: [EvaluationMetric], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(Array(try encoder.encode(metrics)), to: path)
    }

    /// A labels file given to the evaluate stage: a JSON list of objects (`shape` names their
    /// keys in the error when the file is anything else).
    static func labelList(_ path: String, shape: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path),
              let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw StageFailure(.io, "\(path): expected a JSON list of \(shape)")
        }
        return rows
    }

    /// The metrics an evaluate stage left in `workdir`, or none.
    static func readMetrics(workdir: String) -> [EvaluationMetric] {
        guard let data = FileManager.default.contents(atPath: workdir + "/" + metricsFile) else { return [] }
        return (try? JSONDecoder().decode([EvaluationMetric].self, from: data)) ?? []
    }
}
