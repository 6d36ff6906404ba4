import Foundation
import Pipeline
import Stages
import TestFixtures
import XCTest

/// A pipeline file that cannot run fails before any work, with one line naming file, line and key.
final class PipelineLoaderTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = temporaryFolder("loader")
        FileManager.default.createFile(atPath: folder.appendingPathComponent("m.tsv").path, contents: Data("a cat\thttp://x/1.jpg\n".utf8))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func load(_ yaml: String, registry: StageRegistry = StandardStages.registry) throws -> PipelineDefinition {
        let path = folder.appendingPathComponent("p.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try PipelineLoader(registry: registry).load(path: path)
    }

    func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> PipelineError? {
        do {
            _ = try load(yaml)
            XCTFail("loaded a broken pipeline", file: file, line: line)
            return nil
        } catch let e as PipelineError {
            XCTAssertFalse(e.description.contains("\n"), "one line: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(folder.appendingPathComponent("p.yaml").path), file: file, line: line)
            return e
        } catch {
            XCTFail("not a PipelineError: \(error)", file: file, line: line)
            return nil
        }
    }

    let good = """
        dataset: d
        stages:
          ingest:
            manifests:
              - path: m.tsv
                format: cc3m
          fetch:
            needs: [ingest]
        """

    func testValidPipelineLoadsInDependencyOrder() throws {
        let p = try load(good)
        XCTAssertEqual(p.stages.map(\.name), ["ingest", "fetch"])
        XCTAssertEqual(p.stages[1].parameters.int("max_in_flight"), 256, "defaults filled in")
        XCTAssertEqual(p.workdir, folder.appendingPathComponent("work/d").path)
    }

    func testBrokenYAML() {
        let e = error("dataset: d\nstages:\n  ingest: [unclosed\n")
        XCTAssertNotNil(e?.line)
        XCTAssertTrue(e?.problem.contains("YAML syntax error") ?? false, "\(String(describing: e))")
    }

    func testUnknownKeyNamesLineAndKey() {
        let e = error(good + "\n    max_in_flihgt: 10\n")
        XCTAssertEqual(e?.line, 9)
        XCTAssertEqual(e?.key, "stages.fetch.max_in_flihgt")
        XCTAssertTrue(e?.problem.contains("unknown key") ?? false)
    }

    func testUnknownTopLevelKey() {
        let e = error("datset: d\n" + good)
        XCTAssertEqual(e?.line, 1)
        XCTAssertEqual(e?.key, "datset")
    }

    func testWrongTypeAndRange() {
        XCTAssertEqual(error(good + "\n    retries: many\n")?.key, "stages.fetch.retries")
        let e = error(good + "\n    retries: 99\n")
        XCTAssertTrue(e?.problem.contains("out of range") ?? false, "\(String(describing: e))")
    }

    func testCycle() {
        let e = error("""
            dataset: d
            stages:
              ingest:
                manifests: [{path: m.tsv, format: cc3m}]
              fetch: {needs: [ingest, decode]}
              decode: {needs: [fetch]}
            """)
        XCTAssertTrue(e?.problem.contains("dependency cycle: fetch -> decode -> fetch") ?? false, "\(String(describing: e))")
        XCTAssertEqual(e?.line, 5)
    }

    func testUnknownStageTypeAndNeeds() {
        XCTAssertTrue(error("dataset: d\nstages:\n  clean: {}\n")?.problem.contains("unknown stage type `clean`") ?? false)
        let e = error(good + "\n  decode: {needs: [fecth]}\n")
        XCTAssertEqual(e?.key, "stages.decode.needs")
        XCTAssertTrue(e?.problem.contains("unknown stage `fecth`") ?? false)
    }

    func testMissingInputs() {
        let e = error(good.replacingOccurrences(of: "m.tsv", with: "nope.tsv"))
        XCTAssertEqual(e?.key, "stages.ingest.manifests[0].path")
        XCTAssertEqual(e?.line, 5)
        XCTAssertTrue(e?.problem.contains("does not exist") ?? false)
        let m = error(good + "\n  decode: {needs: [fetch]}\n  caption: {needs: [decode], model: /no/such/model}\n")
        XCTAssertEqual(m?.key, "stages.caption.model")
    }

    func testStageNeedsItsRequiredUpstream() {
        let e = error("dataset: d\nstages:\n  ingest:\n    manifests: [{path: m.tsv, format: cc3m}]\n  decode: {needs: [ingest]}\n")
        XCTAssertTrue(e?.problem.contains("needs a `fetch` stage upstream") ?? false, "\(String(describing: e))")
    }

    func testMissingRequiredKeyAndDuplicateKey() {
        XCTAssertEqual(error("dataset: d\nstages:\n  ingest: {}\n")?.key, "stages.ingest.manifests")
        let e = error(good + "\n    retries: 1\n    retries: 2\n")
        XCTAssertNotNil(e?.line)
    }

    func testParameterChangeChangesOnlyDownstreamFingerprints() throws {
        let a = try PipelineRunner(pipeline: try load(good + "\n  decode: {needs: [fetch], min_side: 16}\n")).fingerprints()
        let b = try PipelineRunner(pipeline: try load(good + "\n  decode: {needs: [fetch], min_side: 20}\n")).fingerprints()
        XCTAssertEqual(a["fetch"], b["fetch"])
        XCTAssertNotEqual(a["decode"], b["decode"])
        let c = try PipelineRunner(pipeline: try load(good + "\n    max_in_flight: 3\n  decode: {needs: [fetch], min_side: 16}\n")).fingerprints()
        XCTAssertEqual(a["fetch"], c["fetch"], "concurrency does not change results")
    }

    /// A stage type's revision (raised when its results change for the same settings) changes
    /// its fingerprint and those downstream; revision 1 keeps the fingerprints work folders
    /// already hold (pinned).
    func testRevisionChangesTheStageAndDownstreamFingerprints() throws {
        let yaml = good + "\n  decode: {needs: [fetch], min_side: 16}\n"
        let current = try PipelineRunner(pipeline: try load(yaml)).fingerprints()
        XCTAssertEqual(StandardStages.registry["fetch"]?.revision, 1)
        XCTAssertEqual(current["fetch"], "fb0da7371934a167", "revision 1 is left out of the hash")
        var fetch = try XCTUnwrap(StandardStages.registry["fetch"])
        fetch.revision = 2
        let revised = StageRegistry(StandardStages.registry.types.values.map { $0.name == "fetch" ? fetch : $0 })
        let after = try PipelineRunner(pipeline: try load(yaml, registry: revised)).fingerprints()
        XCTAssertEqual(current["ingest"], after["ingest"])
        XCTAssertNotEqual(current["fetch"], after["fetch"])
        XCTAssertNotEqual(current["decode"], after["decode"], "what the revised stage feeds runs again")
        XCTAssertEqual(StandardStages.registry["report"]?.revision, 2, "the report's contamination table lists every method")
    }

    func testShardSpec() {
        XCTAssertEqual(ShardSpec("3/8"), ShardSpec(index: 3, count: 8))
        XCTAssertNil(ShardSpec("8/8"))
        XCTAssertNil(ShardSpec("x"))
        let counts = (0..<4).map { i in (0..<1000).filter { ShardSpec(index: i, count: 4).owns(source: "s", key: "\($0)") }.count }
        XCTAssertEqual(counts.reduce(0, +), 1000)
        XCTAssertTrue(counts.allSatisfy { $0 > 200 }, "\(counts)")
    }
}

/// The pipelines shipped in pipelines/ use only known stages and keys (paths are for the
/// user's machine, so they are not checked here).
final class ShippedPipelinesTests: XCTestCase {
    func testShippedPipelinesAreValid() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for file in files {
            let p = try PipelineLoader(registry: StandardStages.registry, checkPaths: false).load(path: folder.appendingPathComponent(file).path)
            XCTAssertFalse(p.stages.isEmpty, file)
        }
    }

    /// `capfilt run` interleaves per-sample and whole-dataset stages only where a per-sample stage
    /// needs a model a training stage writes: the demo runs in four phases, CapFilt in two.
    func testRunPhases() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines")
        let loader = PipelineLoader(registry: StandardStages.registry, checkPaths: false)
        let demo = try loader.load(path: folder.appendingPathComponent("demo.yaml").path)
        XCTAssertEqual(PipelineRunner.phases(demo.stages, pipeline: demo), [
            ["ingest", "fetch", "decode", "decontaminate"],
            ["pretrain_vision", "pretrain_noisy", "finetune_captioner", "finetune_filter"],
            ["caption", "filter"],
            ["dedup", "assemble", "export", "pretrain_bootstrapped", "evaluate", "report"],
        ])
        let capfilt = try loader.load(path: folder.appendingPathComponent("capfilt.yaml").path)
        XCTAssertEqual(PipelineRunner.phases(capfilt.stages, pipeline: capfilt),
                       [["ingest", "gate_manifest", "fetch", "decode", "gate_image", "caption", "filter"],
                        ["dedup", "assemble", "export", "report"]])
        // A selection keeps its phases' order.
        XCTAssertEqual(PipelineRunner.phases(demo.stages.filter { ["caption", "pretrain_noisy"].contains($0.name) }, pipeline: demo),
                       [["pretrain_noisy"], ["caption"]])
    }
}
