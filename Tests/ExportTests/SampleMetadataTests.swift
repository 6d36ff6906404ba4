import Basics
import XCTest
@testable import Export

final class SampleMetadataTests: XCTestCase {
    func testSampleMetadataHasEveryColumn() throws {
        let metadata = SampleMetadata(key: "coco/1", source: "coco", origin: "synthetic", caption: "a dog",
                                      scores: ["itm": 0.93], metadata: ["license": "cc-by"])
        XCTAssertEqual(DeterministicJSON().encode(metadata.json),
                       #"{"caption":"a dog","decision":"keep","height":null,"image":null,"key":"coco/1","#
                       + #""metadata":{"license":"cc-by"},"origin":"synthetic","reason":null,"scores":{"itm":0.93},"#
                       + #""sha256":null,"source":"coco","url":null,"width":null}"#)
    }
}
