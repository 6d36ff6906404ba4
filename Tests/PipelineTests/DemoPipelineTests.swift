import Foundation
import TestFixtures
import XCTest

/// `capfilt demo` end to end on a tiny version of the bundled benchmark: every stage of the
/// demo pipeline runs (data, loopback fetch, training, CapFilt, export, retraining, evaluation,
/// report), results.json has exactly the keys, and a second run does nothing.
final class DemoPipelineTests: XCTestCase {
    static let resultKeys: Set<String> = [
        "filter_precision", "filter_recall", "synthetic_noise_ratio", "bleu4", "cider",
        "r1_i2t_noisy", "r1_i2t_bootstrapped", "r1_t2i_noisy", "r1_t2i_bootstrapped",
        "r5_i2t_noisy", "r5_i2t_bootstrapped", "r5_t2i_noisy", "r5_t2i_bootstrapped", "decontamination_recall", "decontamination_clean_removed", "seconds",
        // From the facts of each web image (`caption_facts`).
        "synthetic_false_ratio", "synthetic_kept_false_ratio", "synthetic_kept_false_ratio_se", "synthetic_kept",
        // Against the planted semantic duplicates (`semantic_duplicate_labels`).
        "semantic_dedup_recall", "semantic_dedup_precision",
    ]

    func testTinyDemoRunsEveryStageAndResumesAsANoOp() throws {
        let folder = temporaryFolder("demo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try String(contentsOfFile: Self.repositoryRoot + "/pipelines/demo.yaml", encoding: .utf8)
        let pipeline = folder.appendingPathComponent("demo.yaml").path
        try Self.tiny(source).write(toFile: pipeline, atomically: true, encoding: .utf8)
        let port = String(Int.random(in: 20_000...60_000))
        let arguments = ["demo", "--plain", "--pipeline", pipeline, "--data", folder.appendingPathComponent("data").path,
                         "--port", port, "--human-images", "24", "--validation-images", "4", "--web-images", "40",
                         "--test-images", "16", "--labelled-images", "40", "--audit-rows", "40"]

        let first = try Self.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        for stage in ["ingest", "fetch", "decode", "decontaminate", "pretrain_vision", "pretrain_noisy", "finetune_captioner", "finetune_filter", "caption", "filter",
                      "dedup", "assemble", "export", "pretrain_bootstrapped", "evaluate", "report"] {
            XCTAssertTrue(first.stderr.contains("\(stage): started"), "\(stage) did not run:\n\(first.stderr)")
        }
        // The filter's threshold comes from the audit sample (best F1 at finding its mismatches).
        XCTAssertTrue(first.stderr.contains("has the best F1 on 40 audited pairs"), first.stderr)
        let work = folder.appendingPathComponent("work").path
        let resultsPath = work + "/results.json"
        XCTAssertEqual(first.stdout.split(separator: "\n").last.map(String.init), "results: \(resultsPath)")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: resultsPath))) as! [String: Any]
        XCTAssertEqual(Set(results.keys), Self.resultKeys)
        for (key, value) in results { XCTAssertNotNil(value as? Double, key) }
        for folder in ["pretrain_vision", "pretrain_noisy/retrieval", "pretrain_noisy/captioner", "finetune_captioner", "finetune_filter",
                       "pretrain_bootstrapped/retrieval"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/models/\(folder)/model.safetensors"), folder)
        }
        // Recall per changed attribute, from the labels' "changed" field, next to recall per kind.
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work + "/evaluation.json"))) as! [[String: Any]]
        let names = metrics.compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains("filter recall: wrong_attribute"), "\(names)")
        XCTAssertTrue(names.contains("false synthetic captions kept"), "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("filter recall: wrong_attribute (") }, "\(names)")
        // The threshold the filter used, and how it was chosen.
        let threshold = metrics.first { $0["name"] as? String == "filter threshold" }
        XCTAssertNotNil(threshold?["value"] as? Double)
        XCTAssertTrue((threshold?["description"] as? String ?? "").hasPrefix("calibrated: the best F1 at finding the mismatches of 40 audited pairs"),
                      "\(String(describing: threshold))")
        let report = try String(contentsOfFile: work + "/report/report.html", encoding: .utf8)
        XCTAssertTrue(report.contains("filter precision"), "the report shows the evaluation")
        // The header times the whole run (every phase), not the report stage alone.
        let duration = report.firstMatch(of: /<dt>Duration<\/dt><dd>([0-9.]+) s<\/dd>/).flatMap { Double($0.1) }
        XCTAssertNotNil(duration, "a duration in seconds")
        print("demo report: run duration \(duration ?? -1) s")
        let before = try Data(contentsOf: URL(fileURLWithPath: resultsPath))

        let second = try Self.run(arguments)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("done: everything was up to date"), second.stderr)
        for stage in ["pretrain_vision", "pretrain_noisy", "finetune_captioner", "finetune_filter", "pretrain_bootstrapped", "evaluate", "report"] {
            XCTAssertFalse(second.stderr.contains("\(stage): started"), "\(stage) ran again:\n\(second.stderr)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: resultsPath)), before)
    }

    /// The demo pipeline with paths next to the test's data and a handful of training steps.
    static func tiny(_ yaml: String) -> String {
        var lines: [String] = []
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            var l = line.replacingOccurrences(of: "../demo/data/", with: "data/").replacingOccurrences(of: "../demo/work", with: "work")
            let trimmed = l.trimmingCharacters(in: .whitespaces)
            let indent = String(l.prefix { $0 == " " })
            if trimmed.hasPrefix("steps:") { l = indent + "steps: 3" }
            if trimmed.hasPrefix("warmup:") { l = indent + "warmup: 1" }
            if trimmed.hasPrefix("batch_size:") { l = indent + "batch_size: 8" }
            if trimmed.hasPrefix("queue_size:") { l = indent + "queue_size: 16" }
            if trimmed.hasPrefix("vision_width:") || trimmed.hasPrefix("text_width:") || trimmed.hasPrefix("embed_dim:") {
                l = indent + trimmed.split(separator: ":")[0] + ": 16"
            }
            if trimmed.hasPrefix("vision_layers:") || trimmed.hasPrefix("text_layers:") { l = indent + trimmed.split(separator: ":")[0] + ": 1" }
            if trimmed.hasPrefix("heads:") { l = indent + "heads: 2" }
            if trimmed.hasPrefix("image_size:") { l = indent + "image_size: 32" }
            lines.append(l)
        }
        return lines.joined(separator: "\n")
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = CapfiltProcess.binary
        process.arguments = arguments
        let out = Pipe()
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("demo-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self),
                (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }
}
