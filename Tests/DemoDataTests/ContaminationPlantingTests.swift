import Foundation
import Imaging
import XCTest
@testable import DemoData

/// Test images planted in the web split: after the noisy rows, clean, captioned with their scene,
/// each its test image's bytes (one in five) or an edited, re-encoded copy, listed in
/// contamination/planted.json.
final class ContaminationPlantingTests: XCTestCase {
    func testPlantedCopiesFollowTheWebRowsAndMatchTheTruthFile() throws {
        var options = smallOptions
        options.plantedTestCopies = 8
        try withWrittenDataset("planted", options: options) { dataset, layout in
            XCTAssertEqual(dataset.web.count, options.webImages + 8)
            XCTAssertEqual(Set(dataset.planted.map(\.testIndex)).count, 8, "distinct test images")
            XCTAssertEqual(dataset.planted.filter { $0.edit == .identical }.count, 2, "one in five is byte-identical")
            let unplanted = DemoDataset(options: smallOptions)
            XCTAssertEqual(dataset.web.prefix(options.webImages).map(\.altText), unplanted.web.map(\.altText), "earlier rows unchanged")
            let truth = try XCTUnwrap(readJSON(layout.plantedCopies) as? [[String: Any]])
            XCTAssertEqual(truth.count, 8)
            let labels = try XCTUnwrap(readJSON(layout.noiseLabels) as? [[String: Any]])
            for (copy, entry) in zip(dataset.planted, truth) {
                let row = dataset.web[copy.webIndex]
                XCTAssertEqual(row.kind, .clean)
                XCTAssertEqual(row.altText, row.trueCaption)
                XCTAssertEqual(row.scene, dataset.test[copy.testIndex].scene)
                XCTAssertEqual(labels[copy.webIndex]["kind"] as? String, "clean")
                XCTAssertEqual(entry["web_key"] as? String, String(copy.webIndex))
                XCTAssertEqual(entry["test_image"] as? String, DemoDataLayout.testFileName(copy.testIndex, images: dataset.test.count))
                let web = try Data(contentsOf: URL(fileURLWithPath: DemoDataWriter.imagePath(dataset, .web, copy.webIndex, layout: layout)))
                let test = try Data(contentsOf: URL(fileURLWithPath: DemoDataWriter.imagePath(dataset, .test, copy.testIndex, layout: layout)))
                if copy.edit == .identical {
                    XCTAssertEqual(web, test, "a re-hosted copy has the test file's bytes")
                } else {
                    // Other bytes than the test image's, the same picture give or take the edit.
                    XCTAssertNotEqual(copy.jpegQuality, options.jpegQuality)
                    XCTAssertNotEqual(web, test)
                }
                let decoded = try ImageDecoder.decode([UInt8](web))
                XCTAssertEqual(decoded.width, copy.apply(to: DemoDataWriter.image(dataset, .test, copy.testIndex)).width)
            }
        }
    }
}
