import Foundation
import XCTest

/// The `caption` and `score` commands end to end: JPEG files in, transformers' results out
/// (expected values from Tests/MEDTests/Fixtures/med, written by scripts/make_med_fixtures.py).
final class CaptionCLITests: XCTestCase {
    var captioner: String { CLI.medFixtures.appendingPathComponent("captioner").path }
    var itm: String { CLI.medFixtures.appendingPathComponent("itm").path }
    func image(_ name: String) -> String { CLI.medFixtures.appendingPathComponent(name).path }

    func expectedCase(_ config: String, _ image: String) throws -> [String: Any] {
        let data = try Data(contentsOf: CLI.medFixtures.appendingPathComponent("generation.json"))
        let cases = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
        let c = cases.first { ($0["config"] as! String) == config && ($0["images"] as! [String]) == [image] }!
        return (c["outputs"] as! [[String: Any]])[0]
    }

    func testBeamCaptionsMatchTransformers() throws {
        let r = try CLI.run(["caption", "--model", captioner, "--json", "--threads", "1", image("jpeg0.jpg"), image("jpeg1.jpg")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = CLI.jsonLines(r.stdout)
        XCTAssertEqual(lines.count, 2)
        for (line, name) in zip(lines, ["jpeg0", "jpeg1"]) {
            let expected = try expectedCase("beam3_max20_min5", name)
            let caption = (line["captions"] as! [[String: Any]])[0]
            XCTAssertEqual(caption["token_ids"] as! [Int], (expected["expected_ids"] as! [[Int]])[0])
            XCTAssertEqual(caption["text"] as! String, (expected["expected_caption"] as! [String])[0])
            XCTAssertEqual(caption["score"] as! Double, (expected["sequence_scores"] as! [Double])[0], accuracy: 1e-4)
            XCTAssertEqual(line["image"] as! String, image("\(name).jpg"))
        }
    }

    func testGreedyPromptAndSeveralBeams() throws {
        var r = try CLI.run(["caption", "--model", captioner, "--json", "--beams", "1", "--prompt", "a picture of ",
                             image("jpeg0.jpg")])
        XCTAssertEqual(r.status, 0, r.stderr)
        var caption = (CLI.jsonLines(r.stdout)[0]["captions"] as! [[String: Any]])[0]
        var expected = try expectedCase("greedy_prompt_max20_min5", "jpeg0")
        XCTAssertEqual(caption["token_ids"] as! [Int], (expected["expected_ids"] as! [[Int]])[0])
        XCTAssertEqual(caption["text"] as! String, (expected["expected_caption"] as! [String])[0])
        XCTAssertTrue(caption["score"] is NSNull, "greedy has no beam score")

        r = try CLI.run(["caption", "--model", captioner, "--json", "--num-captions", "3", image("jpeg1.jpg")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let captions = CLI.jsonLines(r.stdout)[0]["captions"] as! [[String: Any]]
        expected = try expectedCase("beam3_return3_max20_min5", "jpeg1")
        XCTAssertEqual(captions.map { $0["token_ids"] as! [Int] }, expected["expected_ids"] as! [[Int]])
        caption = captions[0]
        XCTAssertEqual(caption["text"] as! String, (expected["expected_caption"] as! [String])[0])
    }

    func testPlainOutputIsPathTabCaption() throws {
        let r = try CLI.run(["caption", "--model", captioner, image("jpeg1.jpg")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(image("jpeg1.jpg"))\twitness odds witness goo\n")
    }

    func testSamplingIsSeededAndRespectsLengths() throws {
        let args = ["caption", "--model", captioner, "--json", "--sample", "--top-p", "0.9", "--seed", "7",
                    "--max-length", "12", "--min-length", "6", "--num-captions", "4", image("jpeg0.jpg")]
        let a = try CLI.run(args), b = try CLI.run(args)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout, "same seed, same captions")
        let captions = CLI.jsonLines(a.stdout)[0]["captions"] as! [[String: Any]]
        XCTAssertEqual(captions.count, 4)
        for c in captions {
            let ids = c["token_ids"] as! [Int]
            XCTAssertEqual(ids.first, 30522)
            XCTAssertLessThanOrEqual(ids.count, 12)
            XCTAssertTrue(ids.count == 12 || (ids.count >= 7 && ids.last == 102), "\(ids)")
        }
    }

    /// A corrupt image is reported on its own line and in the exit status; the others complete.
    func testBadImageDoesNotStopTheOthers() throws {
        let dir = CLI.temporaryDirectory()
        let bad = dir.appendingPathComponent("broken.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3]).write(to: bad)
        let missing = dir.appendingPathComponent("missing.jpg").path
        let r = try CLI.run(["caption", "--model", captioner, "--json", "--batch-size", "2",
                             image("jpeg0.jpg"), bad.path, missing, image("jpeg1.jpg")])
        XCTAssertEqual(r.status, 1)
        let lines = CLI.jsonLines(r.stdout)
        XCTAssertEqual(lines.map { $0["image"] as! String }, [image("jpeg0.jpg"), bad.path, missing, image("jpeg1.jpg")])
        XCTAssertNotNil(lines[1]["error"]); XCTAssertNotNil(lines[2]["error"])
        XCTAssertEqual(((lines[3]["captions"] as! [[String: Any]])[0]["text"] as! String), "witness odds witness goo")
    }

    func testScoreMatchesTransformers() throws {
        let expected = try ITMExpectations()
        let dir = CLI.temporaryDirectory()
        let texts = ["a red circle on a blue square", "two dogs"]
        var tsv = ""
        for name in ["jpeg0", "jpeg1"] { for t in texts { tsv += "\(image(name + ".jpg"))\t\(t)\n" } }
        tsv += "not a pair line\n"
        let pairs = dir.appendingPathComponent("pairs.tsv")
        try tsv.write(to: pairs, atomically: true, encoding: .utf8)
        for first in ["cls", "enc"] {
            let r = try CLI.run(["score", "--model", itm, "--json", "--first-token", first, "--pairs", pairs.path])
            XCTAssertEqual(r.status, 1, "the malformed line is a failure")
            let lines = CLI.jsonLines(r.stdout)
            XCTAssertEqual(lines.count, 5)
            for (k, line) in lines.prefix(4).enumerated() {
                let i = k / 2, j = k % 2
                XCTAssertEqual(line["itm"] as! Double, expected.itm(first, image: i, text: j), accuracy: 1e-4)
                XCTAssertEqual(line["itc"] as! Double, expected.itc(image: i, text: j), accuracy: 1e-4)
            }
            XCTAssertNotNil(lines[4]["error"])
        }
        let single = try CLI.run(["score", "--model", itm, "--json", "--image", image("jpeg1.jpg"), "--text", "two dogs"])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(CLI.jsonLines(single.stdout)[0]["itm"] as! Double, expected.itm("cls", image: 1, text: 1), accuracy: 1e-4)
    }

    func testBrokenModelFolderFailsWithOneLineNamingTheProblem() throws {
        let dir = CLI.temporaryDirectory()
        try FileManager.default.copyItem(at: CLI.medFixtures.appendingPathComponent("captioner/config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        let weights = try Data(contentsOf: CLI.medFixtures.appendingPathComponent("captioner/model.safetensors"))
        try weights.prefix(weights.count / 2).write(to: dir.appendingPathComponent("model.safetensors"))
        let r = try CLI.run(["caption", "--model", dir.path, image("jpeg0.jpg")])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("model.safetensors"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }
}

/// ITM probabilities and ITC cosines of the fixture (image i, text j) pairs, read from
/// expected_itm.safetensors through Python-free parsing of its JSON header.
struct ITMExpectations {
    let tensors: [String: [Float]]
    init() throws {
        let data = try Data(contentsOf: CLI.medFixtures.appendingPathComponent("expected_itm.safetensors"))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        var out: [String: [Float]] = [:]
        for (name, info) in header where name != "__metadata__" {
            let info = info as! [String: Any]
            guard info["dtype"] as! String == "F32" else { continue }
            let range = info["data_offsets"] as! [Int]
            let bytes = data.subdata(in: (8 + n + range[0])..<(8 + n + range[1]))
            out[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        tensors = out
    }
    /// itm_prob_matrix_{first}_jpeg is [image, text].
    func itm(_ first: String, image: Int, text: Int) -> Double { Double(tensors["itm_prob_matrix_\(first)_jpeg"]![image * 2 + text]) }
    func itc(image: Int, text: Int) -> Double { Double(tensors["itc_cosine_matrix_jpeg"]![image * 2 + text]) }
}
