import Basics
import XCTest

final class FNV1aTests: XCTestCase {
    func testKnownVectors() {
        // The reference FNV-1a 64 values.
        XCTAssertEqual(FNV1a.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(FNV1a.hash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(FNV1a.hash("foobar"), 0x8594_4171_f739_67e8)
    }

    func testUpdatesChain() {
        var h = FNV1a()
        h.update("foo".utf8)
        h.update("bar".utf8)
        XCTAssertEqual(h.value, FNV1a.hash("foobar"))
    }
}
