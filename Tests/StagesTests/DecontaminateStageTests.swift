@testable import Catalog
import Foundation
import Imaging
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// The decontaminate stage in the test pipeline, between decode and caption, against an image
/// folder holding a byte copy of one training image and a re-encoded copy of another.
final class DecontaminateStageTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("decontaminate")
        dataset = try TestDataset(folder: folder)
        let eval = folder.appendingPathComponent("eval/sub")
        try FileManager.default.createDirectory(at: eval, withIntermediateDirectories: true)
        let images = folder.appendingPathComponent("images")
        try FileManager.default.copyItem(at: images.appendingPathComponent("img-007.jpg"), to: eval.appendingPathComponent("exact.jpg"))
        // Web image 11 re-encoded: other bytes, the same picture.
        let pixels = try ImageDecoder.decode([UInt8](try Data(contentsOf: images.appendingPathComponent("img-011.jpg"))))
        try Data(try ImageEncoder.jpeg(pixels, quality: 70)).write(to: folder.appendingPathComponent("eval/near.jpg"))
        try Data([0xFF, 0xD8, 0xFF, 1, 2, 3]).write(to: folder.appendingPathComponent("eval/broken.jpg"))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func runner(_ rules: [String] = ["phash: true", "radius: 6"]) throws -> PipelineRunner {
        var yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent("work"))
        let stage = (["  decontaminate:", "    needs: [decode]", "    eval_sets:", "      - {path: eval, name: held-out}"]
                     + rules.map { "    " + $0 }).joined(separator: "\n")
        yaml = yaml.replacingOccurrences(of: "  caption:\n    needs: [decode]", with: stage + "\n  caption:\n    needs: [decontaminate]")
        let path = folder.appendingPathComponent("decontaminate.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    func catalog(_ r: PipelineRunner) throws -> Catalog { try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1))) }

    func testCopiesAreRemovedWithReasonsCountedReportedAndNotAssembled() throws {
        let r = try runner()
        XCTAssertFalse(try r.run(RunOptions()).cancelled)
        let fps = try r.fingerprints()
        let c = try catalog(r)
        let found = try c.read { try $0.contaminatedSamples(stage: "decontaminate", fingerprint: fps["decontaminate"]!) }
        XCTAssertEqual(found.map(\.key), ["images/img-007.jpg", "images/img-011.jpg"])
        XCTAssertEqual(found.map(\.record.method), ["exact", "phash"])
        XCTAssertEqual(found[0].record.evalImage, "sub/exact.jpg")
        XCTAssertEqual(found[1].record.evalImage, "near.jpg")
        let counts = try r.counts()
        let stage = try XCTUnwrap(counts.stage("decontaminate"))
        XCTAssertEqual(stage.byStatus[.contaminated], 2)
        XCTAssertEqual(stage.reasons.map(\.reason).sorted { ($0 ?? "") < ($1 ?? "") }.first ?? nil, "exact copy of held-out:sub/exact.jpg")
        XCTAssertNotNil(stage.reasons.compactMap(\.reason).first { $0.hasPrefix("phash ") && $0.hasSuffix(" bits from held-out:near.jpg") })
        // Neither is in the assembled set, nor offered to the caption stage.
        let assembled = try c.read { try $0.assembledSamples() }.map(\.sample.key)
        XCTAssertFalse(assembled.isEmpty)
        XCTAssertFalse(assembled.contains("images/img-007.jpg"))
        XCTAssertFalse(assembled.contains("images/img-011.jpg"))
        let caption = try XCTUnwrap(counts.stage("caption"))
        XCTAssertEqual(caption.done + caption.failed + caption.pending, stage.byStatus[.ok])
        // The report lists them.
        let html = try String(contentsOfFile: r.workspace.reportFolder + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("held-out:sub/exact.jpg"))
        XCTAssertTrue(html.contains("id=\"contamination\""))
        // Up to date: a second run does nothing again.
        XCTAssertFalse(try runner().run(RunOptions()).ranStages.contains("decontaminate"))
    }

    /// Without phash only the byte copy is found.
    func testExactOnly() throws {
        let r = try runner([])
        XCTAssertFalse(try r.run(RunOptions()).cancelled)
        let found = try catalog(r).read { try $0.contaminatedSamples(stage: "decontaminate", fingerprint: try r.fingerprints()["decontaminate"]!) }
        XCTAssertEqual(found.map(\.record.method), ["exact"])
    }

    /// A web image made photo-like: the test scene drawn from `layout`, with per-pixel grain from
    /// `grain` (what a photo's sensor noise and texture are to a copy detector).
    func texturedImage(layout: UInt64, grain: UInt64) -> RGBImage {
        var rng = SplitMix(seed: layout)
        var image = TestDataset.scene(&rng, width: 80, height: 64)
        var noise = SplitMix(seed: grain)
        for p in 0..<(image.width * image.height) {
            let g = Int(noise.next() % 13) - 6
            for c in 0..<3 { image.pixels[p * 3 + c] = UInt8(max(0, min(255, Int(image.pixels[p * 3 + c]) + g))) }
        }
        return image
    }

    func write(_ image: RGBImage, quality: Int, to path: String) throws {
        try Data(try ImageEncoder.jpeg(image, quality: quality)).write(to: folder.appendingPathComponent(path))
    }

    /// Residual matching alone finds a re-encoded copy and an edited copy (cropped, brightened,
    /// re-encoded) of photo-like training images, and not a look-alike drawn from the same layout
    /// with other grain, nor the flat drawing's byte copy (no texture, no evidence).
    func testResidualFindsEditedCopiesAndNotLookAlikes() throws {
        let four = texturedImage(layout: 40, grain: 1), five = texturedImage(layout: 50, grain: 2), eleven = texturedImage(layout: 110, grain: 3)
        try write(four, quality: 90, to: "images/img-004.jpg")
        try write(texturedImage(layout: 40, grain: 4), quality: 90, to: "images/img-008.jpg")
        try write(five, quality: 90, to: "images/img-005.jpg")
        try write(eleven, quality: 90, to: "images/img-011.jpg")
        try write(four, quality: 80, to: "eval/copy-of-4.jpg")
        var edited = [UInt8]()
        for y in 2..<five.height { for x in 2..<five.width { let (r, g, b) = five[x, y]; edited += [r, g, b].map { UInt8(min(255, Int($0) + 12)) } } }
        try write(RGBImage(width: five.width - 2, height: five.height - 2, pixels: edited), quality: 65, to: "eval/edited.jpg")
        try write(eleven, quality: 70, to: "eval/near.jpg")

        let r = try runner(["exact: false", "residual: 0.2", "candidates: 4"])
        XCTAssertFalse(try r.run(RunOptions()).cancelled)
        let found = try catalog(r).read { try $0.contaminatedSamples(stage: "decontaminate", fingerprint: try r.fingerprints()["decontaminate"]!) }
        XCTAssertEqual(found.map(\.key), ["images/img-004.jpg", "images/img-005.jpg", "images/img-011.jpg"])
        XCTAssertEqual(found.map(\.record.evalImage), ["copy-of-4.jpg", "edited.jpg", "near.jpg"])
        XCTAssertEqual(Set(found.map(\.record.method)), ["residual"])
        XCTAssertTrue(found.allSatisfy { $0.record.distance >= 0.2 }, "\(found.map(\.record.distance))")
        let reasons = try XCTUnwrap(try r.counts().stage("decontaminate")).reasons.compactMap(\.reason)
        XCTAssertNotNil(reasons.first { $0.hasPrefix("residual correlation ") && $0.hasSuffix(" with held-out:edited.jpg") })
        // The report counts them under their method and shows each correlation.
        let html = try String(contentsOfFile: r.workspace.reportFolder + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("3 training samples removed"), "the report's count")
        XCTAssertTrue(html.contains("<td>held-out</td><td>residual</td><td class=\"num\">3</td>"))
        XCTAssertTrue(html.contains(">correlation 0."))
        // A threshold above every copy's correlation finds none: the check decides.
        let strict = try runner(["exact: false", "residual: 0.99", "candidates: 4"])
        XCTAssertFalse(try strict.run(RunOptions()).cancelled)
        XCTAssertEqual(try catalog(strict).read { try $0.contaminatedSamples(stage: "decontaminate", fingerprint: try strict.fingerprints()["decontaminate"]!) }.count, 0)
    }

    /// The fingerprint follows the evaluation images' content: a changed image reruns the stage.
    func testFingerprintChangesWithTheEvaluationSet() throws {
        let before = try runner().fingerprints()["decontaminate"]
        XCTAssertEqual(try runner().fingerprints()["decontaminate"], before)
        try Data(try Data(contentsOf: folder.appendingPathComponent("images/img-003.jpg")))
            .write(to: folder.appendingPathComponent("eval/sub/exact.jpg"))
        XCTAssertNotEqual(try runner().fingerprints()["decontaminate"], before)
    }

    /// A stopped run resumes where its committed batches end: samples already judged keep their marks.
    func testResumesAfterAnInterruptedBatch() throws {
        let r = try runner()
        XCTAssertFalse(try r.run(RunOptions()).cancelled)
        let fp = try r.fingerprints()["decontaminate"]!
        let c = try catalog(r)
        // Lose the marks of the later samples, as a kill before their batch committed would.
        let total = try c.read { try $0.counts(stage: "decontaminate", fingerprint: fp, requires: []).done }
        try c.write { try $0.db.execute(sql: "DELETE FROM progress WHERE stage = 'decontaminate' AND sample_id > 10") }
        XCTAssertTrue(try runner().run(RunOptions()).ranStages.contains("decontaminate"))
        let found = try c.read { try $0.contaminatedSamples(stage: "decontaminate", fingerprint: fp) }
        XCTAssertEqual(found.map(\.key), ["images/img-007.jpg", "images/img-011.jpg"])
        XCTAssertEqual(try c.read { try $0.counts(stage: "decontaminate", fingerprint: fp, requires: []).done }, total)
    }
}
