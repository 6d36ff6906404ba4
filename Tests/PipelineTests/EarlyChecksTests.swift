import Foundation
import Pipeline
import Stages
import TestFixtures
import XCTest

/// What a run needs from the machine and from its models is checked when the file is loaded,
/// before any stage starts: readable inputs, a writable workdir, and model folders that hold the
/// model each stage builds. Each problem is one line naming file, line and key.
final class EarlyChecksTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = temporaryFolder("early")
        FileManager.default.createFile(atPath: folder.appendingPathComponent("m.tsv").path, contents: Data("a cat\thttp://x/1.jpg\n".utf8))
        try? FileManager.default.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        try? "[]".write(to: folder.appendingPathComponent("coco.json"), atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        // Give back what a test took away, so the folder can be removed.
        _ = chmod(folder.appendingPathComponent("images").path, 0o755)
        _ = chmod(folder.appendingPathComponent("locked").path, 0o755)
        try? FileManager.default.removeItem(at: folder)
    }

    var path: String { folder.appendingPathComponent("p.yaml").path }

    func load(_ yaml: String) throws -> PipelineDefinition {
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try PipelineLoader(registry: StandardStages.registry).load(path: path)
    }

    func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> PipelineError? {
        do {
            _ = try load(yaml)
            XCTFail("loaded a pipeline that cannot run", file: file, line: line)
            return nil
        } catch let e as PipelineError {
            XCTAssertFalse(e.description.contains("\n"), "one line: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(path + ":"), "\(e)", file: file, line: line)
            return e
        } catch {
            XCTFail("not a PipelineError: \(error)", file: file, line: line)
            return nil
        }
    }

    func ingest(imageRoot: String = "images", workdir: String = "work") -> String {
        """
        dataset: d
        workdir: \(workdir)
        stages:
          ingest:
            manifests:
              - {path: coco.json, format: coco, image_root: \(imageRoot)}
          fetch:
            needs: [ingest]
        """
    }

    var isRoot: Bool { geteuid() == 0 }

    // MARK: inputs and outputs

    /// The issue's case: `chmod 000` on the COCO image folder. The folder exists, so the old
    /// check passed, and every human sample later failed with io_error.
    func testUnreadableImageRootIsRefused() throws {
        try XCTSkipIf(isRoot, "root reads a folder whatever its mode; run the tests as a user to see this one")
        XCTAssertEqual(chmod(folder.appendingPathComponent("images").path, 0), 0)
        let e = error(ingest())
        XCTAssertEqual(e?.key, "stages.ingest.manifests[0].image_root")
        XCTAssertEqual(e?.line, 6)
        XCTAssertTrue(e?.problem.contains("images is not readable") ?? false, "\(String(describing: e))")
    }

    func testUnreadableManifestIsRefused() throws {
        try XCTSkipIf(isRoot, "root reads a file whatever its mode")
        XCTAssertEqual(chmod(folder.appendingPathComponent("coco.json").path, 0), 0)
        let e = error(ingest())
        XCTAssertEqual(e?.key, "stages.ingest.manifests[0].path")
        XCTAssertTrue(e?.problem.contains("is not readable") ?? false, "\(String(describing: e))")
    }

    /// An image root that is a file (a manifest given twice, say) would fail every image too.
    func testImageRootThatIsNotAFolderIsRefused() {
        let e = error(ingest(imageRoot: "m.tsv"))
        XCTAssertEqual(e?.key, "stages.ingest.manifests[0].image_root")
        XCTAssertTrue(e?.problem.contains("m.tsv is not a folder") ?? false, "\(String(describing: e))")
    }

    func testWorkdirThatCannotBeCreatedIsRefused() {
        let e = error(ingest(workdir: "m.tsv/work"))
        XCTAssertEqual(e?.key, "workdir")
        XCTAssertEqual(e?.line, 2)
        XCTAssertTrue(e?.problem.contains("cannot be created") ?? false, "\(String(describing: e))")
        XCTAssertTrue(e?.problem.contains("m.tsv is not a folder") ?? false, "\(String(describing: e))")
    }

    func testUnwritableWorkdirIsRefused() throws {
        try XCTSkipIf(isRoot, "root writes a folder whatever its mode")
        let locked = folder.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        XCTAssertEqual(chmod(locked.path, 0o555), 0)
        let e = error(ingest(workdir: "locked/work"))
        XCTAssertEqual(e?.key, "workdir")
        XCTAssertTrue(e?.problem.contains("is not writable") ?? false, "\(String(describing: e))")
    }

    func testReadableInputsAndWritableWorkdirLoad() throws {
        let p = try load(ingest())
        XCTAssertEqual(p.stages.map(\.name), ["ingest", "fetch"])
        XCTAssertEqual(p.failureLimit, FailureLimit(maxShare: 0.5, minSamples: 20))
    }

    // MARK: models

    var captioner: String { TestDataset.models.appendingPathComponent("captioner").path }
    var itm: String { TestDataset.models.appendingPathComponent("itm").path }

    func judged(caption: String, filter: String) -> String {
        """
        dataset: d
        workdir: work
        stages:
          ingest:
            manifests:
              - {path: m.tsv, format: cc3m}
          fetch:
            needs: [ingest]
          decode:
            needs: [fetch]
          caption:
            needs: [decode]
            model: \(caption)
          filter:
            needs: [caption]
            model: \(filter)
        """
    }

    /// A copy of a fixture model folder that a test may damage.
    func copyModel(_ source: String, as name: String) throws -> URL {
        let copy = folder.appendingPathComponent(name)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: source), to: copy)
        return copy
    }

    func testGoodModelsLoad() throws {
        XCTAssertEqual(try load(judged(caption: captioner, filter: itm)).stages.count, 5)
    }

    /// The issue's case: the captioner given as the filter. It used to be found only when the
    /// filter started (after fetch, decode and caption), as 175 lines.
    func testCaptionerGivenAsTheFilterIsOneLineAtLoad() {
        let e = error(judged(caption: captioner, filter: captioner))
        XCTAssertEqual(e?.key, "stages.filter.model")
        XCTAssertEqual(e?.line, 16, "the line of `model:`")
        let problem = e?.problem ?? ""
        XCTAssertTrue(problem.contains("the `filter` stage cannot use \(captioner) as a BlipForImageTextRetrieval"), problem)
        XCTAssertTrue(problem.contains("config.json: architectures is BlipForConditionalGeneration, expected BlipForImageTextRetrieval"), problem)
        XCTAssertNotNil(problem.range(of: #"\(and [0-9]+ more\)$"#, options: .regularExpression), problem)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("work").path), "no work started")
    }

    func testFilterGivenAsTheCaptionerIsOneLineAtLoad() {
        let e = error(judged(caption: itm, filter: itm))
        XCTAssertEqual(e?.key, "stages.caption.model")
        XCTAssertTrue(e?.problem.contains("as a BlipForConditionalGeneration: config.json: architectures is BlipForImageTextRetrieval") ?? false,
                      "\(String(describing: e))")
    }

    /// A truncated download: the header claims more data than the file holds.
    func testTruncatedSafetensorsIsFoundAtLoad() throws {
        let copy = try copyModel(itm, as: "itm-truncated")
        let weights = copy.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        let e = error(judged(caption: captioner, filter: copy.path))
        XCTAssertEqual(e?.key, "stages.filter.model")
        let problem = e?.problem ?? ""
        XCTAssertTrue(problem.contains("the `filter` stage cannot use \(copy.path)"), problem)
        XCTAssertTrue(problem.contains(": model.safetensors: "), problem)
        XCTAssertTrue(problem.contains("truncated"), problem)
    }

    /// A config whose sizes do not match the tensors: every misshapen tensor is a problem, the
    /// first is named and the rest counted.
    func testConfigSizesThatDoNotMatchTheTensorsAreFoundAtLoad() throws {
        let copy = try copyModel(captioner, as: "captioner-resized")
        let configURL = copy.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var text = config["text_config"] as! [String: Any]
        text["intermediate_size"] = (text["intermediate_size"] as! Int) * 2
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let e = error(judged(caption: copy.path, filter: itm))
        XCTAssertEqual(e?.key, "stages.caption.model")
        let problem = e?.problem ?? ""
        XCTAssertTrue(problem.contains(": model.safetensors: tensor 'text_decoder.bert.encoder.layer.0.intermediate.dense.weight' has shape"), problem)
        XCTAssertNotNil(problem.range(of: #"\(and [0-9]+ more\)$"#, options: .regularExpression), problem)
    }

    func testBrokenConfigIsFoundAtLoad() throws {
        let copy = try copyModel(itm, as: "itm-broken-config")
        try "{\"architectures\": [\"BlipForImageTextRetrieval\"], ".write(to: copy.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let e = error(judged(caption: captioner, filter: copy.path))
        XCTAssertEqual(e?.key, "stages.filter.model")
        XCTAssertTrue(e?.problem.contains(": config.json: not valid JSON") ?? false, "\(String(describing: e))")
    }

    /// A `model_from` folder is written by a training stage during the run: it is not there when
    /// the file is loaded, and that is not an error.
    func testModelFromFoldersAreNotCheckedAtLoad() throws {
        let p = try load("""
            dataset: d
            workdir: work
            stages:
              ingest:
                manifests:
                  - {path: m.tsv, format: cc3m}
              fetch:
                needs: [ingest]
              decode:
                needs: [fetch]
              pretrain:
                needs: [decode]
                data: catalog
              caption:
                needs: [decode, pretrain]
                model_from: pretrain/captioner
              filter:
                needs: [caption, pretrain]
                model_from: pretrain/retrieval
            """)
        XCTAssertEqual(p.stages.count, 6)
    }
}
