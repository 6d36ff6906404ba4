import Foundation
import Imaging
import XCTest
@testable import DemoData

/// The labelled split (shape and position classes, for pre-training the image encoder): its list,
/// its images, its independence from the captioned splits, and pinned pixels.
final class LabelledSplitTests: XCTestCase {
    func testListNamesEveryImageWithItsScenesShapeAndPosition() throws {
        try withWrittenDataset("labelled") { dataset, layout in
            let list = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout.labelledList))) as! [[String: String]]
            XCTAssertEqual(list.count, smallOptions.labelledImages)
            for (entry, item) in zip(list, dataset.labelled) {
                XCTAssertEqual(entry["label"], "\(item.scene.shape.rawValue) \(item.scene.position.rawValue)")
                let path = (layout.labelledList as NSString).deletingLastPathComponent + "/" + entry["image"]!
                let image = try ImageDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                XCTAssertEqual([image.width, image.height], [smallOptions.imageSize, smallOptions.imageSize], path)
            }
            XCTAssertGreaterThan(Set(list.map { $0["label"]! }).count, 10, "30 images spread over the 25 classes")
        }
    }

    func testLabelledScenesDrawFromTheirOwnStream() {
        var more = smallOptions
        more.labelledImages = 50
        let a = DemoDataset(options: smallOptions), b = DemoDataset(options: more)
        XCTAssertEqual(a.labelled.map(\.scene), Array(b.labelled.prefix(30)).map(\.scene))
        XCTAssertEqual(a.human.map(\.captions), b.human.map(\.captions))
        XCTAssertEqual(DemoDataWriter.image(a, .web, 5), DemoDataWriter.image(b, .web, 5))
        // Not the human split's scenes under another name.
        XCTAssertNotEqual(Array(a.labelled.prefix(6)).map(\.scene), a.human.map(\.scene))
    }

    func testPinnedDigest() {
        let dataset = DemoDataset(options: smallOptions)
        var digest = FNV1a()
        for i in dataset.labelled.indices { digest.add(DemoDataWriter.labelledImage(dataset, i).pixels) }
        digest.add(DemoDataWriter.labelsJSON(dataset))
        XCTAssertEqual(String(digest.value, radix: 16), "cd1548c627c62360")
    }
}
