import Basics
import XCTest

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        // FIPS 180-4 examples and the empty input.
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 56 bytes: the padding spills into a second block.
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // A million bytes: many blocks.
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 63, 64, 65, 500, 1000] {
            var hasher = SHA256()
            hasher.update(bytes[..<split])
            hasher.update(bytes[split...])
            XCTAssertEqual(hasher.finalizeHex(), SHA256.hex(bytes), "split at \(split)")
        }
    }

    func testHexDigestCheck() {
        XCTAssertTrue(SHA256.isHexDigest(String(repeating: "aF0", count: 21) + "9"))
        XCTAssertFalse(SHA256.isHexDigest(String(repeating: "g", count: 64)))
        XCTAssertFalse(SHA256.isHexDigest("abc"))
    }
}
