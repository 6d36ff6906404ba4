import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// Batch sizes are a matter of speed: sampled captions draw from streams seeded by the seed, the
/// sample and the caption's index only, and the filter scores every (image, text) pair on its
/// own, so the caption and filter `batch_size` change no caption, no decision and no fingerprint.
///
/// Scores agree to float rounding, not bit for bit: OpenBLAS sums a product's rows in an order
/// that depends on how many rows the product has (the images or texts of a batch), so an ITM
/// probability can move in its last bits (about 1e-7) with the batch it was computed in.
final class BatchInvarianceTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("batches")
        dataset = try TestDataset(folder: folder, distinct: 14, human: 3)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// What caption and filter wrote with these batch sizes (nucleus sampling, two captions per
    /// image), in a workdir of its own: rows of the catalog's canonical dump, per table.
    private struct Outcome {
        var tables: [String: [[String: String]]]
        var fingerprints: [String: String]

        func rows(_ table: String, where filter: (([String: String]) -> Bool)? = nil) -> [[String: String]] {
            tables[table]!.filter { filter?($0) ?? true }
        }
        /// The rows without the given columns, one line each, for exact comparison.
        func lines(_ table: String, without: Set<String> = []) -> [String] {
            tables[table]!.map { row in row.keys.sorted().filter { !without.contains($0) }.map { "\($0)=\(row[$0]!)" }.joined(separator: " ") }
        }
    }

    private func runThroughFilter(captionBatch: Int, filterBatch: Int) throws -> Outcome {
        let label = "c\(captionBatch)-f\(filterBatch)"
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work-\(label)"),
                                             captionBatchSize: captionBatch, filterBatchSize: filterBatch,
                                             captionsPerImage: 2, name: "pipeline-\(label).yaml")
        let runner = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
        var options = RunOptions()
        options.perSampleOnly = true
        _ = try runner.run(options)
        let catalog = try Catalog(path: runner.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let dump = try catalog.read { try $0.canonicalDump() }
        var tables: [String: [[String: String]]] = [:]
        for table in ["texts", "scores", "decisions", "progress"] {
            let section = dump.components(separatedBy: "# \(table)\n")[1].components(separatedBy: "\n# ")[0]
            tables[table] = section.split(separator: "\n").map { line in
                Dictionary(uniqueKeysWithValues: line.split(separator: "\t").map { field in
                    let parts = field.split(separator: "=", maxSplits: 1)
                    return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
                })
            }
        }
        return Outcome(tables: tables, fingerprints: try runner.fingerprints())
    }

    /// Scores of the same texts agree to float rounding; everything else about them is equal.
    private func assertSameScores(_ a: Outcome, _ b: Outcome, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        // A synthetic caption's ranking score is one of its scores (NULL for web texts).
        let numbers: Set<String> = ["itm_probability", "itc_similarity", "rank_score"]
        XCTAssertEqual(a.lines("scores", without: numbers), b.lines("scores", without: numbers), label, file: file, line: line)
        XCTAssertEqual(a.lines("decisions", without: numbers), b.lines("decisions", without: numbers),
                       "\(label): the same texts kept and dropped, for the same reasons", file: file, line: line)
        var largest = 0.0
        for table in ["scores", "decisions"] {
            for (x, y) in zip(a.rows(table), b.rows(table)) {
                for column in numbers where x[column] != nil {
                    guard let u = x[column].flatMap(Double.init), let v = y[column].flatMap(Double.init) else {
                        XCTAssertEqual(x[column], y[column], "\(label): \(table).\(column)", file: file, line: line)
                        continue
                    }
                    largest = max(largest, abs(u - v))
                }
            }
        }
        XCTAssertLessThan(largest, 1e-5, "\(label): largest score difference", file: file, line: line)
    }

    func testCaptionsScoresAndFingerprintsDoNotDependOnBatchSize() throws {
        let one = try runThroughFilter(captionBatch: 1, filterBatch: 1)
        let synthetic = one.rows("texts") { $0["origin"] == "\"synthetic\"" }
        // 14 distinct web images and 4 planted copies are captioned, two captions each.
        XCTAssertEqual(synthetic.count, 2 * (14 + 4))
        XCTAssertEqual(one.rows("scores").count, one.rows("decisions").count)
        XCTAssertGreaterThan(one.rows("decisions").count, synthetic.count, "web texts are judged too")
        // The two sampled captions of an image are independent draws, not copies.
        let texts = synthetic.map { $0["text"]! }
        XCTAssertGreaterThan(Set(texts).count, texts.count / 2, "sampled captions vary: \(texts)")

        for size in [7, 32] {
            let other = try runThroughFilter(captionBatch: size, filterBatch: size)
            XCTAssertEqual(other.fingerprints, one.fingerprints, "batch_size \(size) is left out of every fingerprint")
            XCTAssertEqual(other.lines("texts"), one.lines("texts"), "the same captions with batch_size \(size) and 1")
            XCTAssertEqual(other.lines("progress"), one.lines("progress"), "the same outcomes with batch_size \(size) and 1")
            assertSameScores(other, one, "batch_size \(size) and 1")
        }
    }

    /// The filter alone: the same captions scored 1, 7 or 32 images at a time.
    func testFilterScoresDoNotDependOnItsBatchSize() throws {
        let one = try runThroughFilter(captionBatch: 3, filterBatch: 1)
        for size in [7, 32] {
            let other = try runThroughFilter(captionBatch: 3, filterBatch: size)
            XCTAssertEqual(other.fingerprints, one.fingerprints)
            XCTAssertEqual(other.lines("texts"), one.lines("texts"))
            assertSameScores(other, one, "filter batch_size \(size) and 1")
        }
    }

    /// A sample's seed mixes the stage seed with its source and key.
    func testImageSeedsDifferBySeedSourceAndKey() {
        let base = CaptionStage.imageSeed(0, source: "web", key: "images/img-000.jpg")
        XCTAssertNotEqual(base, CaptionStage.imageSeed(1, source: "web", key: "images/img-000.jpg"))
        XCTAssertNotEqual(base, CaptionStage.imageSeed(0, source: "web", key: "images/img-001.jpg"))
        XCTAssertNotEqual(base, CaptionStage.imageSeed(0, source: "people", key: "images/img-000.jpg"))
    }
}
