import Catalog
import Foundation
import Pipeline
import TestFixtures
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// kill -9 while the results of images whose bytes changed are being recomputed: after a resume,
/// the catalog and the export are those of an uninterrupted run.
final class ContentChangeCrashTests: XCTestCase {
    static let recomputed = ["decode", "caption", "filter"]

    func testKillNineWhileChangedImagesAreRecomputedThenResumeGivesIdenticalResults() throws {
        let folder = temporaryFolder("content-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 60, human: 10)
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, captionStrategy: "greedy")
        let images = folder.appendingPathComponent("images")
        // Half the distinct web images get new bytes: every fourth one a copy of the image
        // before it (an exact duplicate), the others a new picture.
        let changed = (7..<60).filter { $0 % 2 == 1 }
        let name = { (i: Int) in String(format: "img-%03d.jpg", i) }
        var originals: [String: Data] = [:]
        for i in changed { originals[name(i)] = try Data(contentsOf: images.appendingPathComponent(name(i))) }

        /// A full run over the original files, then the new bytes, fetched again by retry.
        func runThenChangeImages() throws {
            for (file, data) in originals { try data.write(to: images.appendingPathComponent(file)) }
            let first = try CapfiltProcess.run(["run", "--plain", pipeline])
            XCTAssertEqual(first.status, 0, first.stderr)
            for i in changed {
                if i % 4 == 1 { try dataset.replaceImage(name(i), withCopyOf: name(i - 1)) } else { try dataset.replaceImage(name(i), seed: UInt64(1000 + i)) }
            }
            let retry = try CapfiltProcess.run(["retry", pipeline, "--status", "ok", "--stage", "fetch", "--force"])
            XCTAssertEqual(retry.status, 0, retry.stderr)
        }

        // The reference: the changed images recomputed without interruption.
        try runThenChangeImages()
        let reference = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try RunSnapshot(work)
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/last-run.json")))
        let processed = Dictionary(summary.stages.map { ($0.stage, $0.processed) }, uniquingKeysWith: +)
        for stage in Self.recomputed {
            XCTAssertEqual(processed[stage], changed.count, "\(stage) recomputes the changed samples only: \(processed)")
        }
        let seconds = Dictionary(summary.stages.map { ($0.stage, $0.seconds) }, uniquingKeysWith: +)
        try FileManager.default.removeItem(at: work)

        // The same, killed at random moments inside each stage that recomputes them.
        try runThenChangeImages()
        var rng = SplitMix(seed: 20260514)
        var killedIn: [String: Int] = [:]
        for target in Self.recomputed {
            var inside = 0
            for _ in 0..<8 where inside < 2 {
                let process = try CapfiltProcess(["run", "--plain", pipeline])
                let seen = process.waitFor(["\(target): started", "\(target): up to date"], timeout: 120)
                guard seen == "\(target): started" else {
                    if process.kill() { killedIn[process.runningStage() ?? "between stages", default: 0] += 1 } else {
                        XCTAssertEqual(process.wait(), 0, "a run that was not killed ended badly: \(process.stderr)")
                    }
                    break
                }
                let duration = max(seconds[target] ?? 0, 0.001)
                usleep(useconds_t(Double(rng.next() % 1000) / 1000 * duration / 3 * 1_000_000))
                guard process.kill() else {
                    XCTAssertEqual(process.wait(), 0, "a run that was not killed ended badly: \(process.stderr)")
                    break
                }
                let running = process.runningStage() ?? "between stages"
                killedIn[running, default: 0] += 1
                if running == target { inside += 1 }
            }
        }
        let final = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(final.status, 0, final.stderr)
        XCTAssertGreaterThan((killedIn["caption"] ?? 0) + (killedIn["filter"] ?? 0), 0,
                             "no kill landed while captions or scores were recomputed: \(killedIn)")

        try RunSnapshot(work).assertSame(as: expected)
        print("content change crash test: kills by stage running at the kill: \(killedIn.sorted { $0.key < $1.key })")
    }
}
