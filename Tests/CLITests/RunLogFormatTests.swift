import Foundation
import XCTest

/// `capfilt run --log-format json` (or CAPFILT_LOG_FORMAT=json): every line on standard error is
/// one JSON object, stage lines carry their stage.
final class RunLogFormatTests: XCTestCase {
    var server: ScriptedServer!
    var folder: URL!

    override func setUpWithError() throws {
        server = try ScriptedServer()
        folder = CLI.temporaryDirectory()
    }

    override func tearDown() {
        server.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func testJSONLogLinesFromTheFlagAndTheEnvironment() throws {
        let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ImagingTests/Fixtures/jpeg_420_97x131.jpg")))
        server.route("/a.jpg", .ok(bytes: jpeg, contentType: "image/jpeg"))
        let csv = "url,caption\n\(server.url("/a.jpg")),a picture\n\(server.url("/missing.jpg")),gone\n"
        try csv.write(to: folder.appendingPathComponent("urls.csv"), atomically: true, encoding: .utf8)
        func pipeline(_ name: String) throws -> String {
            let path = folder.appendingPathComponent("\(name).yaml").path
            try """
                dataset: logs
                workdir: work-\(name)
                threads: 1
                stages:
                  ingest:
                    manifests:
                      - {path: urls.csv, format: csv}
                  fetch:
                    needs: [ingest]
                    allow_private: true
                    retries: 0
                    fsync: false

                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var environment = ProcessInfo.processInfo.environment
        environment["CAPFILT_LOG_FORMAT"] = nil
        let flag = try CLI.run(["run", try pipeline("flag"), "--log-format", "json"], environment: environment)
        environment["CAPFILT_LOG_FORMAT"] = "json"
        let variable = try CLI.run(["run", try pipeline("env")], environment: environment)
        for r in [flag, variable] {
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stderr.split(separator: "\n").map(String.init)
            XCTAssertFalse(lines.isEmpty)
            var stages: [String] = []
            for line in lines {
                let object = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                XCTAssertEqual(Set(object.keys), ["time", "level", "stage", "message", "label", "metadata"], line)
                XCTAssertNotNil(object["level"] as? String, line)
                if let stage = object["stage"] as? String { stages.append(stage) }
            }
            XCTAssertTrue(lines.contains { $0.contains(#""stage":"fetch","message":"fetch: started""#) }, r.stderr)
            XCTAssertTrue(lines.contains { $0.contains(#""stage":"fetch","message":"fetch: 1 ok, 1 failed"#) }, r.stderr)
            XCTAssertTrue(lines.contains { $0.contains(#""stage":null,"message":"done: ran ingest, fetch""#) }, r.stderr)
            XCTAssertEqual(Set(stages), ["ingest", "fetch"])
        }

        // Text stays the default; a bad format is refused.
        environment["CAPFILT_LOG_FORMAT"] = nil
        let text = try CLI.run(["run", try pipeline("flag")], environment: environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stderr.hasSuffix("done: everything was up to date\n"), text.stderr)
        environment["CAPFILT_LOG_FORMAT"] = "xml"
        let bad = try CLI.run(["run", try pipeline("flag")], environment: environment)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("CAPFILT_LOG_FORMAT must be text or json"), bad.stderr)
    }
}
