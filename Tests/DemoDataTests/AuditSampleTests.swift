import Foundation
import Imaging
import XCTest
@testable import DemoData

/// The audit sample (web-like pairs marked as matching or not, for choosing the filter's
/// threshold): its list, its noise, its independence from the other splits, and pinned bytes.
final class AuditSampleTests: XCTestCase {
    func testListMarksEveryNoisyRowAsAMismatch() throws {
        try withWrittenDataset("audit") { dataset, layout in
            let list = try XCTUnwrap(try readJSON(layout.auditList) as? [[String: Any]])
            XCTAssertEqual(list.count, smallOptions.auditRows)
            for (entry, row) in zip(list, dataset.audit) {
                XCTAssertEqual(entry["caption"] as? String, row.altText)
                XCTAssertEqual(entry["kind"] as? String, row.kind.rawValue)
                XCTAssertEqual(entry["match"] as? Bool, row.kind == .clean)
                let path = (layout.auditList as NSString).deletingLastPathComponent + "/" + (entry["image"] as! String)
                let image = try ImageDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                XCTAssertEqual([image.width, image.height], [smallOptions.imageSize, smallOptions.imageSize], path)
            }
            // The web split's shares: 15% swapped, 10% junk, 15% wrong attribute of 20 rows.
            let kinds = Dictionary(grouping: dataset.audit, by: \.kind).mapValues(\.count)
            XCTAssertEqual(kinds, [.swapped: 3, .junk: 2, .wrongAttribute: 3, .clean: 12])
            for row in dataset.audit where row.kind == .wrongAttribute {
                XCTAssertNotEqual(row.altText, row.trueCaption)
            }
        }
    }

    func testAuditRowsDrawFromTheirOwnStreams() {
        var more = smallOptions
        more.auditRows = 35
        let a = DemoDataset(options: smallOptions), b = DemoDataset(options: more)
        XCTAssertEqual(a.audit.map(\.scene), Array(b.audit.prefix(20)).map(\.scene))
        XCTAssertEqual(a.web.map(\.altText), b.web.map(\.altText))
        XCTAssertEqual(DemoDataWriter.image(a, .web, 5), DemoDataWriter.image(b, .web, 5))
        // Not the web split's scenes or pixels under another name.
        XCTAssertNotEqual(a.audit.map(\.scene), Array(a.web.prefix(20)).map(\.scene))
        XCTAssertNotEqual(DemoDataWriter.auditImage(a, 0), DemoDataWriter.image(a, .web, 0))
    }

    func testPinnedDigest() {
        let dataset = DemoDataset(options: smallOptions)
        var digest = FNV1a()
        for i in dataset.audit.indices { digest.add(DemoDataWriter.auditImage(dataset, i).pixels) }
        digest.add(DemoDataWriter.auditJSON(dataset))
        XCTAssertEqual(String(digest.value, radix: 16), "4b695abe005ddf1f")
    }
}
