import Foundation
import TestFixtures
import XCTest

/// `capfilt run` on a pipeline that loses a whole source: a non-zero exit and one message naming
/// the stage, the source, the status and a sample (it used to exit 0).
final class FailureShareCLITests: XCTestCase {
    func testALostSourceFailsTheRun() throws {
        let folder = temporaryFolder("cli-lost-source")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 6, human: 24)
        for i in dataset.distinct..<(dataset.distinct + dataset.human) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(String(format: "images/img-%03d.jpg", i)))
        }
        let work = folder.appendingPathComponent("work")
        let pipeline = try dataset.writePipeline(workdir: work, captionStrategy: "greedy")

        let r = try CapfiltRun.run(["run", "--plain", pipeline])
        XCTAssertEqual(r.status, 1, r.stderr)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 1, r.stderr)
        let message = String(errors.first ?? "")
        for part in ["error: stage `fetch`: 24 of 24 samples of source `people` failed", "max_failure_share 0.5",
                     "sample `images/img-006.jpg`", "capfilt retry --status "] {
            XCTAssertTrue(message.contains(part), "\(part) in: \(message)")
        }
        XCTAssertFalse(r.stderr.contains("decode: started"), "nothing downstream ran: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("export").path))
    }
}
