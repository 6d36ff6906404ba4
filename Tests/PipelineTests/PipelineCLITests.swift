import Foundation
import TestFixtures
import XCTest

/// `capfilt run / status / retry` as a user calls them.
final class PipelineCLITests: XCTestCase {
    func testRunStatusRetryFromTheCommandLine() throws {
        let folder = temporaryFolder("cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 2)
        let pipeline = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), captionStrategy: "greedy")

        let run = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("done: ran ingest, fetch, decode, caption, filter, dedup, assemble, export, report"), run.stderr)

        let status = try CapfiltProcess.runCapturingOutput(["status", pipeline, "--json"])
        XCTAssertEqual(status.status, 0)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        let stages = json["stages"] as! [[String: Any]]
        let decode = stages.first { $0["name"] as? String == "decode" }!
        XCTAssertEqual((decode["byStatus"] as! [String: Int])["truncated"], 1)
        XCTAssertEqual(decode["pending"] as? Int, 0)

        let text = try CapfiltProcess.runCapturingOutput(["status", pipeline])
        XCTAssertTrue(text.stdout.contains("truncated 1"), text.stdout)

        let retry = try CapfiltProcess.runCapturingOutput(["retry", pipeline, "--status", "not_image"])
        XCTAssertTrue(retry.stdout.contains("re-queued 1 sample"), retry.stdout)
        let again = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    func testRetryGuardrailsFromTheCommandLine() throws {
        let folder = temporaryFolder("cli-retry")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 2)
        let pipeline = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), captionStrategy: "greedy")
        XCTAssertEqual(try CapfiltProcess.run(["run", "--plain", pipeline]).status, 0)

        let ok = try CapfiltRun.run(["retry", pipeline, "--status", "ok"])
        XCTAssertEqual(ok.status, 2)
        XCTAssertTrue(ok.stderr.contains("refusing to re-queue status ok") && ok.stderr.contains("--force"), ok.stderr)
        XCTAssertEqual(ok.stdout, "")

        let typo = try CapfiltRun.run(["retry", pipeline, "--status", "not_imag", "--stage", "fetch"])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("error: no sample has status not_imag in fetch; its statuses: ok "), typo.stderr)
        XCTAssertTrue(typo.stderr.contains("not_image 1"), typo.stderr)

        let both = try CapfiltRun.run(["retry", pipeline, "--status", "not_image", "--status", "truncated"])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertEqual(both.stdout, """
            fetch: 1 sample (not_image 1)
            decode: 1 sample (truncated 1)
            re-queued 2 samples; run the pipeline to process them

            """)

        let forced = try CapfiltRun.run(["retry", pipeline, "--status", "ok", "--stage", "report"])
        XCTAssertEqual(forced.status, 2, "report has no per-sample statuses")
        let force = try CapfiltRun.run(["retry", pipeline, "--status", "ok", "--stage", "filter", "--force"])
        XCTAssertEqual(force.status, 0, force.stderr)
        XCTAssertTrue(force.stdout.hasPrefix("filter: "), force.stdout)
        XCTAssertEqual(try CapfiltProcess.run(["run", "--plain", pipeline]).status, 0)
    }

    func testInspectAndStatusFromTheCommandLine() throws {
        let folder = temporaryFolder("cli-inspect")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 2)
        let pipeline = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), captionStrategy: "greedy")
        XCTAssertEqual(try CapfiltProcess.run(["run", "--plain", pipeline]).status, 0)

        // Without a view: how many rows each view has.
        let counts = try CapfiltRun.run(["inspect", pipeline])
        XCTAssertEqual(counts.status, 0, counts.stderr)
        XCTAssertTrue(counts.stdout.contains("failures   3\n") && counts.stdout.contains("duplicates 4\n")
                      && counts.stdout.contains("problems   1\n"), counts.stdout)

        let table = try CapfiltRun.run(["inspect", pipeline, "failures", "--stage", "fetch"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, table.stdout)
        XCTAssertTrue(lines[0].hasPrefix("stage  status     error"), table.stdout)

        let csv = try CapfiltRun.run(["inspect", pipeline, "failures", "--format", "csv", "--stage", "decode", "--status", "truncated"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertEqual(csv.stdout.split(separator: "\n").count, 2, csv.stdout)
        XCTAssertTrue(csv.stdout.hasPrefix("stage,status,error,url,source,key\ndecode,truncated,"), csv.stdout)

        let jsonl = try CapfiltRun.run(["inspect", pipeline, "duplicates", "--format", "jsonl", "--sample", "2", "--seed", "3"])
        XCTAssertEqual(jsonl.status, 0, jsonl.stderr)
        let rows = try jsonl.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 2)
        XCTAssertTrue(rows.allSatisfy { ($0["kept"] as? String)?.hasPrefix("web/") == true }, jsonl.stdout)
        XCTAssertTrue(jsonl.stderr.contains("2 of 4 matching rows"), jsonl.stderr)
        XCTAssertEqual(try CapfiltRun.run(["inspect", pipeline, "duplicates", "--format", "jsonl", "--sample", "2", "--seed", "3"]).stdout,
                       jsonl.stdout, "seeded")

        let dropped = try CapfiltRun.run(["inspect", pipeline, "dropped", "--format", "jsonl", "--limit", "1"])
        XCTAssertEqual(dropped.status, 0, dropped.stderr)
        if let line = dropped.stdout.split(separator: "\n").first {
            let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(row["threshold"] as? Double, 0.5)
            XCTAssertLessThan(try XCTUnwrap(row["itm"] as? Double), 0.5)
        }

        let wrong = try CapfiltRun.run(["inspect", pipeline, "failures", "--stage", "report"])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.stderr.hasPrefix("error: report is a whole-dataset stage"), wrong.stderr)

        // Status: texts per origin, and the top failure reasons per stage.
        let status = try CapfiltRun.run(["status", pipeline])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("\nhuman    "), status.stdout)
        XCTAssertTrue(status.stdout.contains("\nsynthetic"), status.stdout)
        XCTAssertTrue(status.stdout.contains("top failure reasons"), status.stdout)
        XCTAssertTrue(status.stdout.contains("  malformed: missing caption"), status.stdout)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try CapfiltRun.run(["status", pipeline, "--json"]).stdout.utf8)) as? [String: Any])
        let texts = try XCTUnwrap(json["texts"] as? [[String: Any]])
        XCTAssertEqual(texts.map { $0["origin"] as? String }, ["human", "web", "synthetic"])
        let fetch = try XCTUnwrap((json["stages"] as? [[String: Any]])?.first { $0["name"] as? String == "fetch" })
        XCTAssertEqual(fetch["done"] as? Int, 6 + 7 + 2 - 2, "done is the ok samples; failed ones apart")
        XCTAssertEqual(fetch["failed"] as? Int, 2)
    }

    /// A malformed row is at the same 1-based line and 0-based record in `capfilt ingest`'s
    /// rejects and in `capfilt inspect problems`.
    func testManifestProblemsMatchCapfiltIngest() throws {
        let folder = temporaryFolder("cli-lines")
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = folder.appendingPathComponent("m.tsv")
        try "url\tcaption\nhttp://example.com/1.jpg\tone\nftp://example.com/2.jpg\ttwo\n\nhttp://example.com/3.jpg\n\"multi\nline\"\tx\ty\n"
            .write(to: manifest, atomically: true, encoding: .utf8)
        let json = folder.appendingPathComponent("l.json")
        try "[\n  {\"image\": \"a.jpg\", \"caption\": \"one\"},\n  {\"image\": \"b.jpg\"},\n  {\n    \"image\": \"c.jpg\",\n    \"caption\": \"\"\n  }\n]\n"
            .write(to: json, atomically: true, encoding: .utf8)
        let pipeline = folder.appendingPathComponent("p.yaml").path
        try """
            dataset: lines
            workdir: \(folder.path)/work
            stages:
              ingest:
                manifests:
                  - {path: m.tsv, format: tsv, source: tsv}
                  - {path: l.json, format: blip-pretrain, source: list}
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        XCTAssertEqual(try CapfiltProcess.run(["run", "--plain", pipeline]).status, 0)
        let inspected = try CapfiltRun.run(["inspect", pipeline, "problems", "--format", "jsonl"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        func located(_ text: String) throws -> [String] {
            try text.split(separator: "\n").map { line in
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let file = ((o["file"] as? String ?? "") as NSString).lastPathComponent
                return "\(file):\(o["line"] ?? "-") record \(o["record"] ?? "-"): \(o["reason"] ?? "")"
            }
        }
        var expected: [String] = []
        for (file, format) in [(manifest, "tsv"), (json, "blip-pretrain")] {
            let out = folder.appendingPathComponent(format + ".jsonl").path
            let ingest = try CapfiltRun.run(["ingest", file.path, "--format", format, "--out", out])
            XCTAssertEqual(ingest.status, 0, ingest.stderr)
            expected += try located(String(contentsOfFile: IngestCommandPaths.rejects(out), encoding: .utf8))
        }
        XCTAssertEqual(expected, [
            "m.tsv:3 record 1: url is not http(s)",
            "m.tsv:5 record 2: bad column count: expected 2, found 1",
            "m.tsv:6 record 3: bad column count: expected 2, found 3",
            "l.json:3 record 1: missing caption",
            "l.json:4 record 2: missing caption",
        ])
        XCTAssertEqual(try located(inspected.stdout), expected)
    }

    func testBrokenPipelineFailsWithOneLineBeforeAnyWork() throws {
        let folder = temporaryFolder("cli-broken")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("p.yaml").path
        try "dataset: d\nworkdir: \(folder.path)/work\nstages:\n  ingest:\n    manifests: [{path: nowhere.tsv}]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CapfiltProcess.run(["run", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("p.yaml:5: stages.ingest.manifests[0].path: nowhere.tsv does not exist"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("work").path), "no work started")
    }
}

extension CapfiltProcess {
    static func runCapturingOutput(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Where `capfilt ingest --out FILE` writes its rejects.
enum IngestCommandPaths {
    static func rejects(_ out: String) -> String {
        (out.hasSuffix(".jsonl") ? String(out.dropLast(6)) : out) + ".rejects.jsonl"
    }
}
