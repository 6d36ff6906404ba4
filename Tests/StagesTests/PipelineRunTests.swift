import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// The whole CapFilt pipeline on a small local dataset with the tiny parity models.
final class PipelineRunTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("run")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func runner(threshold: Double = 0.5, shards: Int = 1) throws -> PipelineRunner {
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"), threshold: threshold, shards: shards)
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    func testFullRunStatusesDedupAndExport() throws {
        let r = try runner()
        let summary = try r.run(RunOptions())
        XCTAssertFalse(summary.cancelled)
        XCTAssertEqual(summary.ranStages, ["ingest", "fetch", "decode", "caption", "filter", "dedup", "assemble", "export", "report"])

        let catalog = try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1)))
        let webRows = dataset.distinct + 4 + 3
        XCTAssertEqual(try catalog.read { try $0.sampleCount() }, webRows + dataset.human)
        XCTAssertEqual(try catalog.read { try $0.problems() }.map(\.reason), ["missing caption"])

        let status = try r.status()
        let byName = Dictionary(uniqueKeysWithValues: status.stages.map { ($0.name, $0) })
        XCTAssertEqual(byName["fetch"]?.byStatus[.ok], webRows + dataset.human - 2)
        XCTAssertEqual(byName["fetch"]?.byStatus[SampleStatus(rawValue: "not_image")], 1, "random bytes: \(byName["fetch"]!.byStatus)")
        XCTAssertEqual(byName["fetch"]?.failed, 2, "random bytes and the missing file")
        XCTAssertEqual(byName["decode"]?.byStatus[SampleStatus(rawValue: "truncated")], 1, "\(byName["decode"]!.byStatus)")
        XCTAssertEqual(byName["caption"]?.pending, 0)
        XCTAssertEqual(byName["filter"]?.done, webRows + dataset.human - 3)
        XCTAssertEqual(byName["export"]?.upToDate, true)

        // Planted duplicates: one exact, three near; every original kept.
        let duplicates = try catalog.read { try $0.duplicates() }
        let keys = try catalog.read { session in try duplicates.map { try session.sample(id: $0.sampleID)!.key } }
        let kinds = Dictionary(uniqueKeysWithValues: zip(keys, duplicates.map(\.kind)))
        XCTAssertEqual(kinds["images/\(TestDataset.plantedExact).jpg"], "exact")
        for name in TestDataset.plantedNear { XCTAssertEqual(kinds["images/\(name).jpg"], "near", "\(name): \(kinds)") }
        XCTAssertEqual(duplicates.filter { $0.kind == "near" }.count, 3, "no false near-duplicates: \(kinds)")

        // The export holds exactly the assembled pairs, and human texts are always kept.
        let pairs = try catalog.read { try $0.assembledPairCount() }
        XCTAssertGreaterThan(pairs, dataset.human)
        let pretrain = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: r.workspace.exportFolder + "/blip_pretrain.json"))) as! [[String: String]]
        XCTAssertEqual(pretrain.count, pairs)
        let tars = try FileManager.default.contentsOfDirectory(atPath: r.workspace.exportFolder + "/webdataset").filter { $0.hasSuffix(".tar") }
        XCTAssertEqual(tars.count, (pairs + 9) / 10)
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.workspace.reportFolder + "/report.html"))
        // `make interop-export` reads this export back with the webdataset package.
        if let keep = ProcessInfo.processInfo.environment["CAPFILT_PIPELINE_EXPORT_DIR"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: r.workspace.exportFolder, toPath: keep)
        }

        // The filter kept the ITC embeddings of what it scored: one image row per scored
        // sample, one text row per scored text, unit length, their dot product the stored ITC.
        let store = try EmbeddingStore(existing: r.workspace.embeddingFolder(ShardSpec(index: 0, count: 1), stage: "filter"))
        XCTAssertEqual(store.scalar, .float16)
        let images = try store.latestRows(.image), texts = try store.latestRows(.text)
        XCTAssertEqual(images.count, webRows - 3, "every sample the filter scored")
        XCTAssertEqual(try store.ids(.image).count, images.count, "once")
        let imageOf = Dictionary(uniqueKeysWithValues: images.ids.enumerated().map { ($1, Array(images.vector($0))) })
        let decisions = try catalog.read { try $0.decisions(fingerprint: byName["filter"]!.fingerprint) }
        var sampleOf: [Int64: Int64] = [:]
        for id in images.ids {
            for t in try catalog.read({ try $0.texts(sampleID: id, syntheticFingerprint: byName["caption"]!.fingerprint) }) {
                sampleOf[t.id] = id
            }
        }
        XCTAssertEqual(Set(texts.ids), Set(decisions.keys), "one text row per judged text")
        for (k, textID) in texts.ids.enumerated() {
            let vector = Array(texts.vector(k))
            XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 2e-3)
            let dot = zip(imageOf[sampleOf[textID]!]!, vector).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(Double(dot), decisions[textID]!.itcSimilarity!, accuracy: 5e-3, "text \(textID)")
        }

        // A second run has nothing to do.
        XCTAssertEqual(try r.run(RunOptions()).ranStages, [])
    }

    /// blip_pretrain.json names images relative to the export folder, so the same data in two
    /// workdirs exports the same bytes; the training stages' `data: export` resolves those paths
    /// against the file's folder.
    func testPretrainJSONPathsAreRelativeSoTwoWorkdirsExportTheSameBytes() throws {
        let registry = StandardStages.registry
        var exports: [String: Data] = [:]
        for name in ["work", "elsewhere/other-work"] {
            let path = try dataset.writePipeline(workdir: folder.appendingPathComponent(name), captionStrategy: "greedy",
                                                 name: name.replacingOccurrences(of: "/", with: "-") + ".yaml")
            let r = PipelineRunner(pipeline: try PipelineLoader(registry: registry).load(path: path))
            XCTAssertFalse(try r.run(RunOptions()).cancelled)
            let json = r.workspace.exportFolder + "/blip_pretrain.json"
            exports[name] = try Data(contentsOf: URL(fileURLWithPath: json))

            let entries = try XCTUnwrap(try JSONSerialization.jsonObject(with: exports[name]!) as? [[String: String]])
            XCTAssertGreaterThan(entries.count, dataset.human)
            for entry in entries {
                let image = try XCTUnwrap(entry["image"])
                XCTAssertTrue(image.hasPrefix("../shards/00000-of-00001/blobs/"), image)
                XCTAssertTrue(FileManager.default.fileExists(atPath: r.workspace.exportFolder + "/" + image), image)
            }
            // The consumer: every pair names an existing file, however the path was written.
            let pairs = try StageTrainingData.exportPairs(path: json)
            XCTAssertEqual(pairs.count, entries.count)
            for pair in pairs {
                XCTAssertTrue(pair.imagePath.hasPrefix(r.workspace.root + "/shards/"), pair.imagePath)
                XCTAssertTrue(FileManager.default.fileExists(atPath: pair.imagePath), pair.imagePath)
            }
        }
        XCTAssertEqual(exports["work"], exports["elsewhere/other-work"], "the two workdirs exported different blip_pretrain.json")

        XCTAssertEqual(ExportStage.relativePath("/w/shards/0/blobs/ab/x.jpg", from: "/w/export"), "../shards/0/blobs/ab/x.jpg")
        XCTAssertEqual(ExportStage.relativePath("/w/export/a.jpg", from: "/w/export"), "a.jpg")
        XCTAssertEqual(ExportStage.relativePath("/srv/images/a.jpg", from: "/w/export"), "/srv/images/a.jpg")
    }

    func testNewThresholdRerunsFilterAndDownstreamOnly() throws {
        _ = try runner(threshold: 0.5).run(RunOptions())
        let catalogPath = folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path
        let scoresBefore = try Catalog(path: catalogPath).read { try $0.canonicalDump() }.components(separatedBy: "# decisions")[0]
        let summary = try runner(threshold: 0.45).run(RunOptions())
        XCTAssertEqual(summary.ranStages, ["filter", "assemble", "export", "report"])
        let scoresAfter = try Catalog(path: catalogPath).read { try $0.canonicalDump() }.components(separatedBy: "# decisions")[0]
        XCTAssertEqual(scoresBefore, scoresAfter, "scores were reused, not recomputed")
    }

    /// A threshold calibrated on held-out human pairs: every decision names it, the stored scores
    /// are reused, and keeping all human pairs gives a lower threshold than keeping half of them.
    func testCalibratedThresholdFromHumanPairs() throws {
        _ = try runner(threshold: 0.5).run(RunOptions())
        let catalogPath = folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path
        func dump() throws -> [String] {
            try Catalog(path: catalogPath).read { try $0.canonicalDump() }.components(separatedBy: "# decisions")
        }
        let scoresBefore = try dump()[0]
        func thresholds(keep: Double) throws -> Set<String> {
            let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"))
            let yaml = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
                of: "    threshold: 0.5", with: "    threshold: 0.5\n    calibrate_on: human.json\n    calibrate_keep: \(keep)")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let summary = try PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
                .run(RunOptions())
            XCTAssertEqual(summary.ranStages, ["filter", "assemble", "export", "report"])
            let decisions = try dump()[1]
            let found = decisions.matches(of: /(?:>=|<) ([0-9.e-]+) \(calibrated\)/).map { String($0.1) }
            XCTAssertFalse(found.isEmpty, "decisions name the calibrated threshold")
            return Set(found)
        }
        let all = try thresholds(keep: 1.0), half = try thresholds(keep: 0.5)
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(half.count, 1)
        XCTAssertLessThan(Double(all.first!)!, Double(half.first!)!)
        let record = try recordedThreshold()
        XCTAssertEqual(record.origin, .calibrated)
        XCTAssertEqual(record.rule, "keep")
        XCTAssertEqual(record.keepShare, 0.5)
        XCTAssertEqual(record.value, Double(half.first!)!, accuracy: 1e-5 * record.value)
        XCTAssertNil(record.precision, "no labels, no precision")
        XCTAssertEqual(try dump()[0], scoresBefore, "scores were reused, not recomputed")
    }

    /// A threshold calibrated on an audited list (every pair marked match or not) takes the
    /// best F1 cut: the audited pairs here are the web pairs themselves, junk alt-text marked as
    /// mismatched, so the threshold can be recomputed from the ITM probabilities the filter stored.
    func testCalibratedThresholdFromAnAuditedList() throws {
        _ = try runner(threshold: 0.5).run(RunOptions())
        var audited: [[String: Any]] = []
        var noiseByImage: [String: Bool] = [:]
        let web = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("web.json"))) as! [[String: String]]
        for i in 0..<dataset.distinct {
            let image = String(format: "images/img-%03d.jpg", i)
            audited.append(["image": image, "caption": web[i]["caption"]!, "match": i % 5 != 4])
            noiseByImage[(image as NSString).lastPathComponent] = i % 5 == 4
        }
        try JSONSerialization.data(withJSONObject: audited).write(to: folder.appendingPathComponent("audit.json"))
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"))
        let yaml = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "    threshold: 0.5", with: "    threshold: 0.5\n    calibrate_on: audit.json")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let summary = try PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path)).run(RunOptions())
        XCTAssertEqual(summary.ranStages, ["filter", "assemble", "export", "report"])

        let catalogPath = folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path
        let dump = try Catalog(path: catalogPath).read { try $0.canonicalDump() }
        let thresholds = Set(dump.matches(of: /(?:>=|<) ([0-9.e-]+) \(calibrated\)/).map { Double(String($0.1))! })
        XCTAssertEqual(thresholds.count, 1, "one calibrated threshold")
        // The web texts of the audited images, with their stored probabilities.
        let samples = Dictionary(uniqueKeysWithValues: dumpRows(dump, "samples").map { ($0["id"]!, $0["local_path"]!) })
        let texts = dumpRows(dump, "texts").filter { $0["origin"] == "web" }
        let decisions = Dictionary(uniqueKeysWithValues: dumpRows(dump, "decisions").compactMap { row in
            Double(row["itm_probability"]!).map { (row["text_id"]!, $0) }
        })
        let scored: [(p: Double, noise: Bool)] = texts.compactMap { text in
            guard let noise = noiseByImage[(samples[text["sample_id"]!]! as NSString).lastPathComponent],
                  let p = decisions[text["id"]!] else { return nil }
            return (p, noise)
        }
        XCTAssertEqual(scored.count, dataset.distinct)
        let expected = try XCTUnwrap(FilterCalibration.bestF1(scored))
        XCTAssertEqual(thresholds.first!, expected.threshold, accuracy: 1e-3)
        // The filter records the threshold and where it came from, for evaluate and report.
        let record = try recordedThreshold()
        XCTAssertEqual(record.rule, "f1")
        XCTAssertEqual(record.pairs, dataset.distinct)
        XCTAssertEqual(record.value, thresholds.first!, accuracy: 1e-5 * record.value)
        XCTAssertNotNil(record.precision)
        XCTAssertTrue(record.summary.hasPrefix("calibrated: the best F1"), record.summary)
    }

    /// The threshold the filter stage recorded beside its latest decisions in this test's catalog.
    private func recordedThreshold() throws -> FilterThreshold {
        let catalog = try Catalog(path: folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path)
        let progress = dumpRows(try catalog.read { try $0.canonicalDump() }, "progress")
        let fingerprint = try XCTUnwrap(progress.first { $0["stage"] == "filter" }?["fingerprint"])
        return try XCTUnwrap(catalog.read { try $0.filterThreshold(fingerprint: fingerprint) })
    }

    /// The rows of one table of a canonical dump, as column → value (text without its quotes).
    private func dumpRows(_ dump: String, _ table: String) -> [[String: String]] {
        let section = dump.components(separatedBy: "# \(table)\n")[1].components(separatedBy: "\n# ")[0]
        return section.split(separator: "\n").map { line in
            Dictionary(uniqueKeysWithValues: line.split(separator: "\t").map {
                let parts = $0.split(separator: "=", maxSplits: 1)
                let value = parts.count > 1 ? String(parts[1]) : ""
                let unquoted = value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
                return (String(parts[0]), unquoted)
            })
        }
    }

    func testRetryRequeuesAStatus() throws {
        let r = try runner()
        _ = try r.run(RunOptions())
        XCTAssertEqual(try r.retry(status: SampleStatus(rawValue: "truncated"), stage: "decode"), 1)
        XCTAssertEqual(try r.status().stages.first { $0.name == "decode" }?.pending, 1)
        let summary = try r.run(RunOptions())
        XCTAssertEqual(summary.stages.first { $0.stage == "decode" }?.processed, 1)
        XCTAssertEqual(summary.stages.first { $0.stage == "caption" }?.processed ?? 0, 0, "it fails again, nothing downstream")
    }

    func testRetryRefusesOkAndUnknownStatusesAndSaysWhatItRequeued() throws {
        let r = try runner()
        _ = try r.run(RunOptions())
        let before = try r.status().stages.map { ($0.name, $0.byStatus) }

        // ok is refused without force: it would throw away good results.
        XCTAssertThrowsError(try r.retry(statuses: ["ok"].map(SampleStatus.init(rawValue:)), stage: "filter")) { error in
            let message = "\(error)"
            XCTAssertTrue(error is RetryRefusal, message)
            XCTAssertTrue(message.contains("--force"), message)
            XCTAssertTrue(message.contains("filter \(dataset.distinct + 4 + dataset.human)"), message)
        }
        XCTAssertThrowsError(try r.retry(statuses: ["timeout", "ok"].map(SampleStatus.init(rawValue:)), stage: nil))
        // A status no sample has: refused with the statuses there are, in the stage or overall.
        XCTAssertThrowsError(try r.retry(statuses: ["truncatd"].map(SampleStatus.init(rawValue:)), stage: "decode")) { error in
            XCTAssertEqual("\(error)", "no sample has status truncatd in decode; its statuses: ok \(dataset.distinct + 4 + dataset.human), truncated 1")
        }
        XCTAssertThrowsError(try r.retry(statuses: ["truncated"].map(SampleStatus.init(rawValue:)), stage: "fetch")) { error in
            XCTAssertTrue("\(error)".hasPrefix("no sample has status truncated in fetch; its statuses: ok "), "\(error)")
            XCTAssertTrue("\(error)".contains("not_image 1"), "\(error)")
        }
        XCTAssertThrowsError(try r.retry(statuses: ["timeot"].map(SampleStatus.init(rawValue:)), stage: nil)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("no sample has status timeot in any stage; statuses: fetch: ok "), message)
            XCTAssertTrue(message.contains("; decode: ok \(dataset.distinct + 4 + dataset.human), truncated 1;"), message)
        }
        XCTAssertThrowsError(try r.retry(statuses: ["ok"].map(SampleStatus.init(rawValue:)), stage: "export")) { error in
            XCTAssertTrue("\(error)".contains("whole-dataset stage"), "\(error)")
        }
        XCTAssertEqual(try r.status().stages.map { $0.name }, before.map(\.0))
        XCTAssertEqual(try r.status().stages.map(\.byStatus), before.map(\.1), "refusals change nothing")

        // Several statuses at once, reported per stage and status.
        let result = try r.retry(statuses: ["not_image", "truncated"].map(SampleStatus.init(rawValue:)), stage: nil)
        XCTAssertEqual(result.lines, ["fetch: 1 sample (not_image 1)", "decode: 1 sample (truncated 1)"])
        XCTAssertEqual(result.total, 2)
        // With force, ok is re-queued too.
        let filtered = try r.status().stages.first { $0.name == "filter" }!.done
        let forced = try r.retry(statuses: ["ok"].map(SampleStatus.init(rawValue:)), stage: "filter", force: true)
        XCTAssertEqual(forced.lines, ["filter: \(filtered) samples (ok \(filtered))"])
        XCTAssertEqual(try r.status().stages.first { $0.name == "filter" }?.pending, filtered)
    }

    func testShardedRunMatchesUnshardedSampleSet() throws {
        let r = try runner(shards: 3)
        _ = try r.run(RunOptions())
        var samples = 0
        for shard in r.workspace.shards {
            samples += try Catalog(path: r.workspace.catalogPath(shard)).read { try $0.sampleCount() }
        }
        XCTAssertEqual(samples, dataset.distinct + 7 + dataset.human)
        // The exact duplicate is found across shards.
        var exact = 0
        for shard in r.workspace.shards {
            exact += try Catalog(path: r.workspace.catalogPath(shard)).read { try $0.duplicates() }.filter { $0.kind == "exact" }.count
        }
        XCTAssertEqual(exact, 1)
    }

    func testSecondRunOnTheSameCatalogIsRefused() throws {
        let r = try runner()
        _ = try r.run(RunOptions(only: "ingest"))
        let shard = ShardSpec(index: 0, count: 1)
        let held = try RunLock(path: r.workspace.lockPath(shard))
        XCTAssertThrowsError(try r.run(RunOptions())) { XCTAssertTrue("\($0)".contains("another capfilt run holds")) }
        withExtendedLifetime(held) {}
    }
}

/// Nightly runs: rows appended to a manifest are the only new work.
final class IncrementalRunTests: XCTestCase {
    func testAppendedManifestRowsAreTheOnlyNewWork() throws {
        let folder = temporaryFolder("nightly")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TestDataset(folder: folder, distinct: 10, human: 2)
        let path = try dataset.writePipeline(workdir: folder.appendingPathComponent("work"))
        let load = { try PipelineLoader(registry: StandardStages.registry).load(path: path) }
        _ = try PipelineRunner(pipeline: try load()).run(RunOptions())

        // Three more rows in the web manifest: two new images (copies of human ones, so exact
        // duplicates) and an image already listed, under a new caption.
        let images = folder.appendingPathComponent("images")
        for i in 0..<2 {
            try FileManager.default.copyItem(at: images.appendingPathComponent(String(format: "img-%03d.jpg", 10 + i)),
                                             to: images.appendingPathComponent("new-\(i).jpg"))
        }
        let manifest = folder.appendingPathComponent("web.json")
        var rows = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [[String: String]]
        rows.append(["image": "images/new-0.jpg", "caption": "new row 0"])
        rows.append(["image": "images/new-1.jpg", "caption": "new row 1"])
        rows.append(["image": "images/img-001.jpg", "caption": "a second caption for an old image"])
        try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]).write(to: manifest)

        let summary = try PipelineRunner(pipeline: try load()).run(RunOptions())
        let processed = Dictionary(uniqueKeysWithValues: summary.stages.map { ($0.stage, $0.processed) })
        XCTAssertEqual(processed["ingest"], 2, "two new samples")
        for stage in ["fetch", "decode", "caption"] { XCTAssertEqual(processed[stage], 2, stage) }
        XCTAssertEqual(processed["filter"], 3, "the two new samples and the one with a new caption")
        XCTAssertEqual(summary.ranStages, ["ingest", "fetch", "decode", "caption", "filter", "dedup", "assemble", "export", "report"])
        let catalog = try Catalog(path: folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path)
        XCTAssertEqual(try catalog.read { try $0.duplicates() }.filter { $0.kind == "exact" }.count, 3)
        let old = try catalog.read { try $0.texts(sampleID: 2, syntheticFingerprint: nil) }.map(\.text)
        XCTAssertTrue(old.contains("a second caption for an old image"), "\(old)")
    }
}
