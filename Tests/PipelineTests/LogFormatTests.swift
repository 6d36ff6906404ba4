import Foundation
import Logging
@testable import Pipeline
import XCTest

/// `--log-format json`: one JSON object a line, with time, level, stage, message, label and the
/// rest of the metadata.
final class LogFormatTests: XCTestCase {
    func testJSONLineFields() throws {
        let time = Date(timeIntervalSince1970: 1_714_564_800.25)
        let line = CapfiltLogHandler.jsonLine(time: time, level: .info, label: "capfilt", message: "fetch: 12 done, 1 failed\nin 2.0 s",
                                              metadata: ["stage": "fetch", "shard": "00001-of-00004", "counts": ["ok": "11"]])
        XCTAssertEqual(line, #"{"time":"2024-05-01T12:00:00.250Z","level":"info","stage":"fetch","message":"fetch: 12 done, 1 failed\nin 2.0 s","label":"capfilt","metadata":{"counts":{"ok":"11"},"shard":"00001-of-00004"}}"#)
        XCTAssertFalse(line.contains("\n"))
        let outside = CapfiltLogHandler.jsonLine(time: time, level: .error, label: "capfilt", message: "no", metadata: [:])
        XCTAssertEqual(outside, #"{"time":"2024-05-01T12:00:00.250Z","level":"error","stage":null,"message":"no","label":"capfilt","metadata":{}}"#)
    }

    func testHandlerWritesOneObjectPerLineWithTheLoggersMetadata() throws {
        let written = Written()
        let output = TerminalLine { written.append($0) }
        var logger = Logger(label: "capfilt") { CapfiltLogHandler(label: $0, format: .json, output: output) }
        logger[metadataKey: "stage"] = "caption"
        logger.info("caption: started")
        logger.warning("caption: slow", metadata: ["batch": "3"])
        logger.debug("not shown at the default level")
        let lines = written.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, written.text)
        let objects = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.map { $0["stage"] as? String }, ["caption", "caption"])
        XCTAssertEqual(objects.map { $0["level"] as? String }, ["info", "warning"])
        XCTAssertEqual(objects.map { $0["message"] as? String }, ["caption: started", "caption: slow"])
        XCTAssertEqual((objects[1]["metadata"] as? [String: String]) ?? [:], ["batch": "3"])
        XCTAssertNotNil(ISO8601DateFormatter.withFractionalSeconds.date(from: objects[0]["time"] as? String ?? ""))
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
