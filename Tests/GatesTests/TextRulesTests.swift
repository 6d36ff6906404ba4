import XCTest
@testable import Gates

/// Caption bounds: just inside is kept, just outside names the rule.
final class TextRulesTests: XCTestCase {
    func testMinAndMaxWords() {
        let rules = TextRules(minWords: 3, maxWords: 5)
        XCTAssertNil(rules.judge("a red car"))
        XCTAssertNil(rules.judge("a red car on roads"))
        XCTAssertEqual(rules.judge("red  car")?.description, "min_words: 2 < 3")
        XCTAssertEqual(rules.judge("a red car on wet roads")?.description, "max_words: 6 > 5")
    }

    func testMinAndMaxChars() {
        let rules = TextRules(minChars: 5, maxChars: 8)
        XCTAssertNil(rules.judge("café!"), "é is one character however it is encoded")
        XCTAssertNil(rules.judge("cafe\u{301}!"))
        XCTAssertNil(rules.judge("12345678"))
        XCTAssertEqual(rules.judge("abcd")?.description, "min_chars: 4 < 5")
        XCTAssertEqual(rules.judge("123456789")?.description, "max_chars: 9 > 8")
    }

    func testWordsCountRunsOfNonWhitespace() {
        XCTAssertEqual(TextRules.wordCount(""), 0)
        XCTAssertEqual(TextRules.wordCount("  \t\n "), 0)
        XCTAssertEqual(TextRules.wordCount(" a\tb\u{00A0}c\nd "), 4)
    }

    func testNoBoundsKeepEverything() {
        XCTAssertTrue(TextRules().isEmpty)
        XCTAssertNil(TextRules().judge(""))
        XCTAssertEqual(TextRules(minWords: 0).judge(""), nil, "a zero lower bound keeps an empty caption")
    }
}
