import Foundation
import XCTest
import MED
import Tensor
@testable import Training

/// BLIP json annotation lists into training pairs.
final class AnnotationTests: XCTestCase {
    func testBLIPAnnotations() throws {
        let json = """
        [{"image": "a.jpg", "caption": "one", "image_id": "coco_7"},
         {"image": "/abs/b.jpg", "caption": ["two", "three"]},
         {"image": "a.jpg", "caption": "four", "image_id": "coco_7"},
         {"image": "c.jpg", "caption": "five", "image_id": 3}]
        """
        let pairs = try TrainingPair.blipAnnotations(Data(json.utf8), imageRoot: URL(fileURLWithPath: "/data"))
        XCTAssertEqual(pairs.map(\.caption), ["one", "two", "three", "four", "five"])
        XCTAssertEqual(pairs.map(\.imagePath), ["/data/a.jpg", "/abs/b.jpg", "/abs/b.jpg", "/data/a.jpg", "/data/c.jpg"])
        XCTAssertEqual(pairs.map(\.imageID), [0, 1, 1, 0, 2])
        XCTAssertThrowsError(try TrainingPair.blipAnnotations(Data(#"[{"image": "x.jpg"}]"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("entry 0"))
        }
    }
}
