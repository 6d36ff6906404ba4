import XCTest
@testable import Decontamination

final class ContaminationMatchTests: XCTestCase {
    func testReasonsNameMethodDistanceAndImage() {
        XCTAssertEqual(ContaminationMatch(method: .phash, evalSet: "coco-test", evalImage: "val2014/x.jpg", distance: 3).reason,
                       "phash 3 bits from coco-test:val2014/x.jpg")
        XCTAssertEqual(ContaminationMatch(method: .exact, evalSet: "s", evalImage: "a.jpg", distance: 0).reason, "exact copy of s:a.jpg")
        XCTAssertEqual(ContaminationMatch(method: .cosine, evalSet: "s", evalImage: "a.jpg", distance: 0.9612).reason, "cosine 0.961 with s:a.jpg")
    }
}
