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
