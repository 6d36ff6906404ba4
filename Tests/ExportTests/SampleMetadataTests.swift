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

final class GroupedSampleMetadataTests: XCTestCase {
    func testOneImageWithEveryTextAndTheFirstAsCaption() throws {
        let metadata = GroupedSampleMetadata(
            key: "web/7", source: "web", sha256: "ab", width: 640, height: 480,
            texts: [.init(origin: "synthetic", caption: "a dog", scores: ["itm": 0.9]),
                    .init(origin: "web", caption: "dog.jpg", scores: ["itm": 0.6, "itc": 0.3], reason: "above 0.5")])
        XCTAssertEqual(DeterministicJSON().encode(metadata.json),
                       #"{"caption":"a dog","height":480,"image":null,"key":"web/7","metadata":{},"sha256":"ab","#
                       + #""source":"web","texts":[{"caption":"a dog","decision":"keep","origin":"synthetic","reason":null,"#
                       + #""scores":{"itm":0.9}},{"caption":"dog.jpg","decision":"keep","origin":"web","reason":"above 0.5","#
                       + #""scores":{"itc":0.3,"itm":0.6}}],"url":null,"width":640}"#)

        let sample = ShardSample.capfilt(metadata, image: .bytes([1, 2]), imageExtension: "png")
        XCTAssertEqual(sample.members.map(\.name), ["png", "txt", "json"])
        XCTAssertEqual(sample.members[1].content, .bytes(Array("a dog".utf8)))
        XCTAssertEqual(sample.labels, ["source": "web", "origins": "synthetic+web"])
        XCTAssertEqual(sample.values, ["itm": 0.9, "texts": 2])
    }
}
