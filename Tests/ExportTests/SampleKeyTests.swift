import XCTest
@testable import Export

final class SampleKeyTests: XCTestCase {
    func testSafeKeysAreUnchanged() {
        for key in ["000000123", "COCO_val2014_000000042", "a-b_c", "x"] {
            XCTAssertTrue(SampleKey.isSafe(key))
            XCTAssertEqual(SampleKey.escape(key), key)
            XCTAssertEqual(SampleKey.unescape(key), key)
        }
        XCTAssertFalse(SampleKey.isSafe(""))
    }

    func testEscapes() {
        XCTAssertEqual(SampleKey.escape("coco/COCO_val2014_42.jpg"), "coco%2FCOCO_val2014_42%2Ejpg")
        XCTAssertEqual(SampleKey.escape("100%"), "100%25")
        XCTAssertEqual(SampleKey.escape("a b"), "a%20b")
        XCTAssertEqual(SampleKey.escape("caf\u{E9}"), "caf%C3%A9")
        XCTAssertEqual(SampleKey.escape("."), "%2E")
        XCTAssertEqual(SampleKey.escape("__key__"), "__key__")
    }

    func testRoundTripAndInjectivity() {
        var keys = ["a.b", "a/b", "a%2Eb", "a%252Eb", "%", "%%", "..", "./x", "\u{1F600}", "\n", "\u{0}", "a\u{301}", "\u{E1}",
                    "https://example.com/img.jpg?w=1&h=2", "laion/00001/000012345", String(repeating: "\u{E9}.", count: 100)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 1..<12, using: &generator) {
                let pool: [UInt32] = [0x2E, 0x2F, 0x25, 0x41, 0x61, 0x30, 0x5F, 0x2D, 0x20, 0xE9, 0x1F600]
                scalars.append(Unicode.Scalar(pool.randomElement(using: &generator)!)!)
            }
            keys.append(String(scalars))
        }
        var seen: [String: [UInt8]] = [:]
        for key in keys {
            let escaped = SampleKey.escape(key)
            XCTAssertTrue(SampleKey.isSafe(escaped.replacingOccurrences(of: "%", with: "_")), escaped)
            XCTAssertFalse(escaped.contains(".") || escaped.contains("/"), escaped)
            XCTAssertEqual(SampleKey.unescape(escaped).map { Array($0.utf8) }, Array(key.utf8))
            // Keys with distinct UTF-8 ("a\u{301}" and "\u{E1}" too, which String calls equal)
            // never share an escape.
            if let other = seen[escaped] { XCTAssertEqual(other, Array(key.utf8)) }
            seen[escaped] = Array(key.utf8)
        }
        XCTAssertNotEqual(SampleKey.escape("a\u{301}"), SampleKey.escape("\u{E1}"))
    }

    func testUnescapeRefusesWhatEscapeNeverMakes() {
        for text in ["%", "a%2", "%2e", "%41", "%G0", ".", "a/b", "%FF", "%C3"] {
            XCTAssertNil(SampleKey.unescape(text), text)
        }
    }
}
