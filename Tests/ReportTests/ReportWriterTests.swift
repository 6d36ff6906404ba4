import Foundation
import XCTest

@testable import Report

final class ReportWriterTests: XCTestCase {
    func testWritesAndReplacesAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("report.html")
        try Data("old".utf8).write(to: url)

        let report = SampleReports.realistic(sampleCount: 3)
        let written = try ReportWriter.write(report, to: url)
        let contents = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(contents, render(report))
        XCTAssertEqual(written, contents.utf8.count)
        // Only the report is left: the temporary file was renamed, not copied.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["report.html"])
    }

    func testMissingDirectoryFailsWithoutLeftovers() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-dir-\(UUID().uuidString)/report.html")
        XCTAssertThrowsError(try ReportWriter.write(SampleReports.realistic(sampleCount: 1), to: url)) { error in
            XCTAssertTrue("\(error)".contains("report.html"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path))
    }
}
