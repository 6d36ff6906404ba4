import Foundation
import XCTest

@testable import Report

/// Writes the example report used for the layout check in docs/report.md.
/// CAPFILT_REPORT_EXAMPLE=path/report.html enables it; CAPFILT_REPORT_THUMBS=dir takes the
/// thumbnails from the JPEG files of a folder (sorted by name) instead of the built-in gradient.
final class ExampleReportTests: XCTestCase {
    func testWriteExampleReport() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["CAPFILT_REPORT_EXAMPLE"] else {
            throw XCTSkip("set CAPFILT_REPORT_EXAMPLE=path.html to write the example report")
        }
        var thumbnails = [SampleReports.tinyJPEG]
        if let folder = environment["CAPFILT_REPORT_THUMBS"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }.sorted()
            thumbnails = try names.map { Array(try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent($0))) }
            XCTAssertFalse(thumbnails.isEmpty, "no .jpg in \(folder)")
        }
        let report = SampleReports.realistic(sampleCount: 12, thumbnails: thumbnails)
        let bytes = try ReportWriter.write(report, to: URL(fileURLWithPath: path))
        print("wrote \(path) (\(bytes) bytes)")
    }
}
