import Catalog
import Foundation
import Pipeline
@testable import Stages
import TestFixtures
import XCTest

/// The gate stage in the test pipeline: one gate on manifest captions before fetch, one on
/// decoded images before caption. Drops name their rule in the catalog and in the counts,
/// dropped samples go no further, dropped captions are neither judged nor assembled, and a rule
/// change reruns the gate and what is downstream of it only.
final class GateStageTests: XCTestCase {
    var folder: URL!
    var dataset: TestDataset!

    override func setUpWithError() throws {
        folder = temporaryFolder("gate")
        dataset = try TestDataset(folder: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// The test pipeline with `gate_manifest` between ingest and fetch and `gate_image` between
    /// decode and caption, each with the given rule lines (YAML, four spaces in).
    func gatedYAML(manifestRules: [String], imageRules: [String], captionRules: [String]? = nil, shards: Int = 1,
                   work: String = "work") -> String {
        var yaml = dataset.pipelineYAML(workdir: folder.appendingPathComponent(work), shards: shards)
        let manifest = (["  gate_manifest:", "    type: gate", "    needs: [ingest]"] + manifestRules.map { "    " + $0 }).joined(separator: "\n")
        let image = (["  gate_image:", "    type: gate", "    needs: [decode]"] + imageRules.map { "    " + $0 }).joined(separator: "\n")
        yaml = yaml.replacingOccurrences(of: "  fetch:\n    needs: [ingest]", with: manifest + "\n  fetch:\n    needs: [gate_manifest]")
        yaml = yaml.replacingOccurrences(of: "  caption:\n    needs: [decode]", with: image + "\n  caption:\n    needs: [gate_image]")
        if let captionRules {
            let caption = (["  gate_caption:", "    type: gate", "    needs: [caption]"] + captionRules.map { "    " + $0 }).joined(separator: "\n")
            yaml = yaml.replacingOccurrences(of: "  filter:\n    needs: [caption]", with: caption + "\n  filter:\n    needs: [gate_caption]")
        }
        return yaml
    }

    func runner(manifestRules: [String] = [], imageRules: [String] = []) throws -> PipelineRunner {
        let path = folder.appendingPathComponent("gated.yaml").path
        try gatedYAML(manifestRules: manifestRules, imageRules: imageRules).write(toFile: path, atomically: true, encoding: .utf8)
        return PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
    }

    func catalog(_ r: PipelineRunner) throws -> Catalog { try Catalog(path: r.workspace.catalogPath(ShardSpec(index: 0, count: 1))) }

    func testDropsNameTheirRuleInTheCatalogAndTheCountsAndGoNoFurther() throws {
        let r = try runner(manifestRules: ["min_words: 2", "text_origins: [web]"], imageRules: ["min_side: 60"])
        let summary = try r.run(RunOptions())
        XCTAssertFalse(summary.cancelled)
        XCTAssertEqual(summary.ranStages, ["ingest", "gate_manifest", "fetch", "decode", "gate_image", "caption", "filter", "dedup",
                                           "assemble", "export", "report"])
        let fps = try r.fingerprints()
        let c = try catalog(r)

        // Which decoded images are below 60 pixels on their shorter side, from the catalog itself.
        var small: Set<Int64> = [], large: Set<Int64> = []
        try c.read { session in
            for id in 1...Int64(try session.sampleCount()) {
                guard let s = try session.sample(id: id), let sha = s.imageSHA256, let image = try session.image(sha256: sha),
                      let w = image.width, let h = image.height else { continue }
                if min(w, h) < 60 { small.insert(id) } else { large.insert(id) }
            }
        }
        XCTAssertFalse(small.isEmpty, "the dataset has images on both sides of the bound")
        XCTAssertFalse(large.isEmpty)

        let counts = try r.counts()
        let gate = try XCTUnwrap(counts.stage("gate_image"))
        XCTAssertEqual(gate.byStatus[SampleStatus(rawValue: "min_side")], small.count, "\(gate.byStatus)")
        XCTAssertEqual(gate.byStatus[.ok], large.count)
        XCTAssertTrue(gate.reasons.allSatisfy { $0.status.rawValue == "min_side" })
        let reason = try XCTUnwrap(gate.reasons.first?.reason)
        XCTAssertNotNil(reason.range(of: #"^\d+ < 60 \(\d+x\d+\)$"#, options: .regularExpression), reason)
        // Not offered downstream: the caption stage saw exactly the samples that passed.
        let caption = try XCTUnwrap(counts.stage("caption"))
        XCTAssertEqual(caption.done + caption.failed + caption.pending, large.count)
        try c.read { session in
            for id in small {
                XCTAssertTrue(try session.texts(sampleID: id, syntheticFingerprint: fps["caption"]).allSatisfy { $0.origin != .synthetic })
            }
        }

        // The web captions of one word (`IMG_2004`, ...) were dropped before fetch, by rule; their
        // samples went on (they may still get a synthetic caption).
        let gated = try c.read { try $0.gatedTexts(stage: "gate_manifest", fingerprint: fps["gate_manifest"]!) }
        XCTAssertEqual(gated.count, 4, "\(gated)")
        XCTAssertEqual(Set(gated.map(\.rule)), ["min_words"])
        XCTAssertEqual(Set(gated.map(\.reason)), ["1 < 2"])
        XCTAssertEqual(counts.stage("gate_manifest")?.failed, 0, "a dropped caption is not a dropped sample")
        XCTAssertEqual(try c.read { try $0.gatedTextCounts(stage: "gate_manifest", fingerprint: fps["gate_manifest"]!) }, ["min_words": 4])
        let decisions = try c.read { try $0.decisions(fingerprint: fps["filter"]!) }
        let assembled = Set(try c.read { try $0.assembledSamples() }.flatMap { $0.texts.map(\.textID) })
        XCTAssertFalse(assembled.isEmpty)
        for t in gated {
            XCTAssertNil(decisions[t.textID], "the filter does not judge a dropped caption")
            XCTAssertFalse(assembled.contains(t.textID), "a dropped caption is not exported")
        }

        // Status and the report count them as dropped web texts (not as unjudged ones).
        let web = try XCTUnwrap(counts.texts(.web))
        let filter = StageRequirement(stage: "filter", fingerprint: fps["filter"]!)
        let ungated = try XCTUnwrap(try c.read { try $0.textCounts(filter: filter, syntheticFingerprint: fps["caption"]) }[.web])
        // Those of samples that passed the filter (the others are on images gate_image dropped).
        let passed = Set(try c.read { try $0.textsOfSamples(passing: filter, syntheticFingerprint: fps["caption"]) }.map(\.id))
        let gatedPassed = gated.filter { passed.contains($0.textID) }.count
        XCTAssertGreaterThan(gatedPassed, 0)
        XCTAssertEqual(web.dropped, ungated.dropped + gatedPassed)
        XCTAssertEqual(web.unjudged, ungated.unjudged - gatedPassed)
        XCTAssertEqual(web.kept, ungated.kept)
        XCTAssertEqual(web.kept + web.dropped + web.duplicates + web.unjudged, web.total)

        // `capfilt inspect dropped` lists them with their gate and rule, before the filter's drops.
        func text(_ cell: InspectCell) -> String? { if case .text(let s) = cell { return s }; return nil }
        let listed = try r.inspect(.dropped, filter: InspectFilter(stage: "gate_manifest"))
        XCTAssertEqual(listed.columns[0], "stage")
        XCTAssertEqual(listed.columns[7], "reason")
        XCTAssertEqual(listed.rows.count, 4)
        XCTAssertEqual(Set(listed.rows.map { text($0[7]) }), ["min_words: 1 < 2"])
        XCTAssertEqual(listed.rows.map { $0[5] }, Array(repeating: InspectCell.null, count: 4), "no ITM score")
        let all = try r.inspect(.dropped)
        XCTAssertEqual(all.rows.prefix(4).map { text($0[0]) }, Array(repeating: "gate_manifest", count: 4))
        XCTAssertThrowsError(try r.inspect(.dropped, filter: InspectFilter(stage: "decode"))) { error in
            XCTAssertTrue("\(error)".contains("not a gate or filter stage"), "\(error)")
        }

        // Nothing left to do.
        XCTAssertEqual(try r.run(RunOptions()).ranStages, [])
    }

    /// A gate after caption judges the synthetic captions; three shards drop what one does.
    func testCaptionGateAndShards() throws {
        var dropped: [Int: (samples: [SampleStatus: Int], captions: Int)] = [:]
        for shards in [1, 3] {
            let path = folder.appendingPathComponent("shards-\(shards).yaml").path
            try gatedYAML(manifestRules: [], imageRules: ["min_side: 60"], captionRules: ["max_words: 4", "text_origins: [synthetic]"],
                          shards: shards, work: "work-\(shards)").write(toFile: path, atomically: true, encoding: .utf8)
            let r = PipelineRunner(pipeline: try PipelineLoader(registry: StandardStages.registry).load(path: path))
            XCTAssertFalse(try r.run(RunOptions()).cancelled)
            let fps = try r.fingerprints()
            var captions = 0
            for shard in r.workspace.shards {
                let c = try Catalog(path: r.workspace.catalogPath(shard))
                let gated = try c.read { try $0.gatedTexts(stage: "gate_caption", fingerprint: fps["gate_caption"]!) }
                let decisions = try c.read { try $0.decisions(fingerprint: fps["filter"]!) }
                try c.read { session in
                    for g in gated {
                        XCTAssertEqual(g.rule, "max_words")
                        XCTAssertNotNil(g.reason.range(of: #"^\d+ > 4$"#, options: .regularExpression), g.reason)
                        XCTAssertNil(decisions[g.textID], "the filter does not judge a dropped caption")
                        let text = try session.textsOfSamples(passing: StageRequirement(stage: "gate_caption", fingerprint: fps["gate_caption"]!),
                                                              syntheticFingerprint: fps["caption"]).first { $0.id == g.textID }
                        XCTAssertEqual(text?.origin, .synthetic)
                        XCTAssertGreaterThan(text.map { $0.text.split(separator: " ").count } ?? 0, 4)
                    }
                }
                captions += gated.count
            }
            XCTAssertGreaterThan(captions, 0, "the captioner writes captions of more than four words")
            dropped[shards] = (try XCTUnwrap(r.counts().stage("gate_image")).byStatus, captions)
        }
        XCTAssertEqual(dropped[3]?.samples, dropped[1]?.samples)
        XCTAssertEqual(dropped[3]?.captions, dropped[1]?.captions)
    }

    func testSHA256BlocklistAfterDecodeRerunsFromTheGateOnly() throws {
        let first = try runner(imageRules: ["min_side: 1"])
        _ = try first.run(RunOptions())
        let before = try first.fingerprints()
        let duplicatesBefore = try catalog(first).read { session in try session.duplicates().map { try session.sample(id: $0.sampleID)!.key } }
        XCTAssertTrue(duplicatesBefore.contains("images/reencoded-1.jpg"), "\(duplicatesBefore)")
        let (id, sha) = try catalog(first).read { session -> (Int64, String) in
            let s = try (1...Int64(try session.sampleCount())).compactMap { try session.sample(id: $0) }.first { $0.key == "images/img-001.jpg" }!
            return (s.id, s.imageSHA256!)
        }
        // Upper-case hex, CRLF and a comment: a list as other tools write it.
        try Data("# blocked images\r\n\(sha.uppercased())\r\n".utf8).write(to: folder.appendingPathComponent("blocked.txt"))

        let second = try runner(imageRules: ["min_side: 1", "sha256_blocklist: blocked.txt"])
        let after = try second.fingerprints()
        XCTAssertEqual(after["gate_manifest"], before["gate_manifest"])
        XCTAssertEqual(after["decode"], before["decode"])
        XCTAssertNotEqual(after["gate_image"], before["gate_image"])
        let summary = try second.run(RunOptions())
        XCTAssertEqual(summary.ranStages, ["gate_image", "caption", "filter", "dedup", "assemble", "export", "report"])
        let mark = try catalog(second).read { session in
            try session.failureReasons(stage: "gate_image", fingerprint: after["gate_image"]!)
        }
        XCTAssertEqual(mark.map(\.status.rawValue), ["sha256_blocklist"])
        XCTAssertEqual(mark.first?.reason, "\(sha.prefix(16))... listed in blocked.txt")
        XCTAssertEqual(mark.first?.count, 1, "img-001 only (its bytes have no copy in the dataset)")
        XCTAssertFalse(try catalog(second).read { try $0.assembledSamples() }.contains { $0.sample.id == id })
        // Its re-encoded copy was a near duplicate of it; with img-001 dropped it is the one kept.
        let duplicates = try catalog(second).read { session in
            try session.duplicates().map { try session.sample(id: $0.sampleID)!.key }
        }
        XCTAssertFalse(duplicates.contains("images/reencoded-1.jpg"), "\(duplicates)")
        XCTAssertTrue(duplicates.contains("images/resized-2.jpg"), "the other duplicates stay: \(duplicates)")
    }

    /// A rule's value and a list's content are in the fingerprint; the batch size is not.
    func testFingerprintFollowsRulesAndListContents() throws {
        let list = folder.appendingPathComponent("domains.txt")
        try Data("example.com\n".utf8).write(to: list)
        func fingerprint(_ rules: [String]) throws -> String { try runner(manifestRules: rules).fingerprints()["gate_manifest"]! }
        let base = try fingerprint(["max_punsafe: 0.5", "domain_blocklist: domains.txt"])
        XCTAssertEqual(try fingerprint(["max_punsafe: 0.5", "domain_blocklist: domains.txt", "batch_size: 7"]), base)
        XCTAssertNotEqual(try fingerprint(["max_punsafe: 0.6", "domain_blocklist: domains.txt"]), base)
        XCTAssertNotEqual(try fingerprint(["max_punsafe: 0.5"]), base)
        XCTAssertNotEqual(try fingerprint(["max_punsafe: 0.5", "domain_blocklist: domains.txt", "min_chars: 1"]), base)
        try Data("example.com\nexample.org\n".utf8).write(to: list)
        XCTAssertNotEqual(try fingerprint(["max_punsafe: 0.5", "domain_blocklist: domains.txt"]), base, "the list changed")
        // text_origins counts only when a caption bound is given.
        XCTAssertEqual(try fingerprint(["max_punsafe: 0.5", "text_origins: [human]"]), try fingerprint(["max_punsafe: 0.5"]))
    }

    /// Problems in a gate's keys are one line naming the file, the line and the key.
    func testBadGateKeysAreReportedWithFileLineAndKey() throws {
        func loadError(_ rules: [String], image: [String] = []) -> String {
            let path = folder.appendingPathComponent("bad.yaml").path
            try! gatedYAML(manifestRules: rules, imageRules: image).write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try PipelineLoader(registry: StandardStages.registry).load(path: path)
                return "loaded"
            } catch { return "\(error)" }
        }
        let path = folder.appendingPathComponent("bad.yaml").path
        let yaml = gatedYAML(manifestRules: ["min_sid: 200"], imageRules: [])
        let line = yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("min_sid:") }! + 1
        let unknown = loadError(["min_sid: 200"])
        XCTAssertTrue(unknown.hasPrefix("\(path):\(line): stages.gate_manifest.min_sid: unknown key"), unknown)
        XCTAssertTrue(loadError(["max_punsafe: 1.5"]).contains("stages.gate_manifest.max_punsafe"), loadError(["max_punsafe: 1.5"]))
        let order = loadError(["min_words: 5", "max_words: 3"])
        XCTAssertTrue(order.hasPrefix("\(path):\(line + 1): stages.gate_manifest.max_words: 3 is below min_words 5"), order)
        let digests = loadError(["sha256_blocklist: web.json"])
        XCTAssertTrue(digests.contains("stages.gate_manifest.sha256_blocklist: needs a `fetch` stage upstream"), digests)
        XCTAssertTrue(loadError(["url_blocklist: nowhere.txt"]).contains("stages.gate_manifest.url_blocklist"))
        XCTAssertTrue(loadError(["max_failure_share: 0.5"]).contains("unknown key"), "a gate's drops are not failures")
    }

    /// A list line that is not an entry of its kind stops the gate with the list's file and line.
    func testABadBlocklistLineStopsTheRunNamingIt() throws {
        try Data("good.example\nnot a host\n".utf8).write(to: folder.appendingPathComponent("domains.txt"))
        let r = try runner(manifestRules: ["domain_blocklist: domains.txt"])
        XCTAssertThrowsError(try r.run(RunOptions())) { error in
            XCTAssertTrue("\(error)".contains("stages.gate_manifest.domain_blocklist: "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("domains.txt:2: `not a host` is not a host name (letters, digits, `-`, `_` and dots) or a URL"), "\(error)")
        }
    }
}
