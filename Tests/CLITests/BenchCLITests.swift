import Foundation
import XCTest

/// The benchmarks live in their own executable, `capfilt-bench`: `capfilt` has no bench
/// commands, and the benchmark's quick subcommands print their JSON line.
final class BenchCLITests: XCTestCase {
    func testCapfiltHasNoBenchCommands() throws {
        for command in ["bench", "bench-images", "bench-pipeline", "bench-train"] {
            XCTAssertNotEqual(try CLI.run([command]).status, 0, command)
        }
        let help = try CLI.run(["--help"], executable: "capfilt-bench")
        XCTAssertEqual(help.status, 0)
        for command in ["med", "images", "pipeline", "train", "gates"] { XCTAssertTrue(help.stdout.contains(command), command) }
    }

    func testImagesTimesTheFixtures() throws {
        let fixtures = CLI.medFixtures
        let r = try CLI.run(["images", "--case", "export256", "--repeat", "1",
                             fixtures.appendingPathComponent("jpeg0.jpg").path, fixtures.appendingPathComponent("jpeg1.jpg").path],
                            executable: "capfilt-bench")
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(CLI.jsonLines(r.stdout).last)
        XCTAssertEqual(line["case"] as? String, "export256")
        XCTAssertEqual(line["images"] as? Int, 2)
        XCTAssertEqual(line["failures"] as? Int, 0)
        XCTAssertEqual((line["seconds"] as? [Double])?.count, 1)
    }

    func testTrainTimesATinyModel() throws {
        let r = try CLI.run(["train", "--vision-width", "32", "--vision-layers", "1", "--vision-heads", "2", "--image-size", "32",
                             "--patch-size", "16", "--text-width", "32", "--text-layers", "1", "--text-heads", "2",
                             "--embed-dim", "16", "--batch", "2", "--seq", "6", "--queue-size", "8", "--warmup", "1", "--steps", "1"],
                            executable: "capfilt-bench")
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(CLI.jsonLines(r.stdout).last)
        XCTAssertEqual(line["impl"] as? String, "capfilt")
        XCTAssertEqual((line["losses"] as? [Double])?.count, 2)
        XCTAssertGreaterThan(line["median_s"] as? Double ?? 0, 0)
    }

    func testGatesDropsEveryPlantedSample() throws {
        let r = try CLI.run(["gates", "--entries", "5000", "--domain-entries", "200", "--sha256-entries", "200", "--samples", "2000"],
                            executable: "capfilt-bench")
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(CLI.jsonLines(r.stdout).last)
        XCTAssertEqual(line["urlEntries"] as? Int, 5000)
        XCTAssertEqual(line["samples"] as? Int, 2000)
        let dropped = try XCTUnwrap(line["dropped"] as? [String: Int])
        // One sample in 20 of each listed kind, and nothing else on the lists.
        XCTAssertEqual(dropped["url_blocklist"], 100)
        XCTAssertEqual(dropped["domain_blocklist"], 100)
        XCTAssertEqual(dropped["sha256_blocklist"], 100)
        XCTAssertGreaterThan(line["totalSeconds"] as? Double ?? 0, 0)
    }
}
