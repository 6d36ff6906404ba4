import Foundation
import Pipeline

/// What a calibrated filter decided with, kept next to the run (`<workdir>/calibration/<stage>.json`)
/// so that evaluate and report name the threshold and where it came from instead of reading it
/// back from decision reasons. Tied to the filter's fingerprint: a record left by other settings
/// is ignored.
struct FilterCalibrationRecord: Codable, Equatable {
    /// The filter stage's fingerprint when it decided.
    var fingerprint: String
    /// "keep" or "f1".
    var rule: String
    /// For `keep`: the share of matching pairs kept.
    var keep: Double?
    var threshold: Double
    /// Held-out pairs scored (for `keep`, the matching ones).
    var pairs: Int
    /// For `f1`: the held-out pairs' precision and recall at the threshold.
    var precision: Double?
    var recall: Double?
    /// The held-out file.
    var file: String

    static func path(workspace: Workspace, stage: String) -> String { workspace.root + "/calibration/" + stage + ".json" }

    func write(workspace: Workspace, stage: String) throws {
        try FileManager.default.createDirectory(atPath: workspace.root + "/calibration", withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(Array(try encoder.encode(self)), to: Self.path(workspace: workspace, stage: stage))
    }

    /// The record of `stage` when it was written with `fingerprint`; nil otherwise.
    static func read(workspace: Workspace, stage: String, fingerprint: String) -> FilterCalibrationRecord? {
        guard let data = FileManager.default.contents(atPath: path(workspace: workspace, stage: stage)),
              let record = try? JSONDecoder().decode(FilterCalibrationRecord.self, from: data),
              record.fingerprint == fingerprint else { return nil }
        return record
    }

    /// The threshold a calibrated filter used: its record, or for decisions made before filters
    /// kept one, the value every reason of theirs names (`itm 0.123 < 0.4163 (calibrated)`).
    static func threshold(workspace: Workspace, stage: String, fingerprint: String,
                          reasons: some Sequence<String>) -> (value: Double, origin: String)? {
        if let record = read(workspace: workspace, stage: stage, fingerprint: fingerprint) { return (record.threshold, record.summary) }
        for reason in reasons where reason.hasSuffix("(calibrated)") {
            if let match = reason.firstMatch(of: /(?:>=|<) ([0-9.e+-]+) \(calibrated\)/), let value = Double(match.1) {
                return (value, "calibrated (read from the decisions)")
            }
        }
        return nil
    }

    /// One line for people: how the threshold was chosen.
    var summary: String {
        switch rule {
        case "f1":
            return String(format: "calibrated: the best F1 at finding the mismatches of %d audited pairs (there: precision %.3f, recall %.3f)",
                          pairs, precision ?? 0, recall ?? 0)
        default:
            return String(format: "calibrated: %.0f%% of %d held-out matching pairs reach it", (keep ?? 0) * 100, pairs)
        }
    }
}
