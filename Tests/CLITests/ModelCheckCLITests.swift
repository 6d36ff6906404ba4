import Foundation
import XCTest

/// `capfilt score` and `capfilt caption` check the model folder before loading it and name the
/// first problem on one line with how many more there are (they printed every problem, one per
/// line: 643 lines for a captioner given to `score`).
final class ModelCheckCLITests: XCTestCase {
    var captioner: String { CLI.medFixtures.appendingPathComponent("captioner").path }
    var itm: String { CLI.medFixtures.appendingPathComponent("itm").path }
    var image: String { CLI.medFixtures.appendingPathComponent("jpeg0.jpg").path }

    func assertOneLine(_ r: CLIResult, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        for part in parts { XCTAssertTrue(r.stderr.contains(part), "\(part) in: \(r.stderr)", file: file, line: line) }
        XCTAssertNotNil(r.stderr.range(of: #"\(and [0-9]+ more\)\n$"#, options: .regularExpression), r.stderr, file: file, line: line)
    }

    func testScoreWithACaptionerIsOneLine() throws {
        let r = try CLI.run(["score", "--model", captioner, "--image", image, "--text", "a cat"])
        assertOneLine(r, contains: ["error: cannot use \(captioner) as a BlipForImageTextRetrieval: ",
                                    "config.json: architectures is BlipForConditionalGeneration, expected BlipForImageTextRetrieval"])
    }

    func testCaptionWithAFilterIsOneLine() throws {
        let r = try CLI.run(["caption", "--model", itm, image])
        assertOneLine(r, contains: ["error: cannot use \(itm) as a BlipForConditionalGeneration: ",
                                    "config.json: architectures is BlipForImageTextRetrieval, expected BlipForConditionalGeneration"])
    }

    /// Without `architectures` in config.json, the tensors themselves tell: the first missing one
    /// is named, with the folder and the file.
    func testScoreWithAnUnlabelledCaptionerNamesTheFirstMissingTensor() throws {
        let folder = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: captioner + "/" + name, toPath: folder.appendingPathComponent(name).path)
        }
        let configURL = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config.removeValue(forKey: "architectures")
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let r = try CLI.run(["score", "--model", folder.path, "--image", image, "--text", "a cat"])
        assertOneLine(r, contains: ["error: cannot use \(folder.path) as a BlipForImageTextRetrieval: model.safetensors: missing tensor '"])
    }
}
