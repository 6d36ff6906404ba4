import Foundation
import XCTest
@testable import Basics

final class DeterministicJSONTests: XCTestCase {
    private func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    func testStringEscapes() throws {
        let cases: [(String, String)] = [
            ("plain", #""plain""#),
            ("quote \" backslash \\ slash /", #""quote \" backslash \\ slash /""#),
            ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
            ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
            ("del \u{7F} stays", "\"del \u{7F} stays\""),
            ("caf\u{E9} \u{1F600} \u{2028}", "\"caf\u{E9} \u{1F600} \u{2028}\""),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(DeterministicJSON.quote(input), expected)
            XCTAssertEqual(try parse(DeterministicJSON.quote(input)) as? String, input)
        }
        XCTAssertEqual(DeterministicJSON.quote("\u{E9}\u{1F600}\n", escapeNonASCII: true), #""\u00e9\ud83d\ude00\n""#)
        XCTAssertEqual(try parse(DeterministicJSON.quote("\u{E9}\u{1F600}", escapeNonASCII: true)) as? String, "\u{E9}\u{1F600}")
    }

    func testLoneSurrogatesArriveAsReplacementCharacters() throws {
        // Swift repairs broken UTF-16 and UTF-8 when it makes a String; the encoder writes what is left.
        let fromUTF16 = String(decoding: [0x61, 0xD800, 0x62] as [UInt16], as: UTF16.self)
        let fromUTF8 = String(decoding: [0x61, 0xED, 0xA0, 0x80, 0x62] as [UInt8], as: UTF8.self)
        for text in [fromUTF16, fromUTF8] {
            let quoted = DeterministicJSON.quote(text)
            XCTAssertTrue(quoted.unicodeScalars.contains("\u{FFFD}"))
            XCTAssertEqual(try parse(quoted) as? String, text)
            XCTAssertEqual(try parse(DeterministicJSON.quote(text, escapeNonASCII: true)) as? String, text)
            XCTAssertTrue(DeterministicJSON.quote(text, escapeNonASCII: true).contains(#"\ufffd"#))
        }
    }

    func testEveryControlAndRandomTextRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [String((0..<0x20).map { Character(Unicode.Scalar($0)!) })]
        for _ in 0..<200 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<30, using: &generator) {
                let pick = Int.random(in: 0..<4, using: &generator)
                let range: ClosedRange<UInt32> = [0...0x7F, 0x80...0x7FF, 0x800...0xFFFF, 0x10000...0x10FFFF][pick]
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &generator)) { scalars.append(scalar) }
            }
            texts.append(String(scalars))
        }
        for text in texts {
            for ascii in [false, true] {
                let quoted = DeterministicJSON.quote(text, escapeNonASCII: ascii)
                XCTAssertEqual(try parse(quoted) as? String, text)
                if ascii { XCTAssertTrue(quoted.utf8.allSatisfy { $0 < 0x80 }) }
            }
        }
    }

    func testNumbers() {
        let doubles: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (1, "1"), (-1.5, "-1.5"), (0.1, "0.1"), (0.3, "0.3"),
            (100, "100"), (123.456, "123.456"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
            (1.5e300, "1.5e+300"), (1e-6, "0.000001"), (1.25e-6, "0.00000125"), (1e-7, "1e-7"),
            (-2.5e-9, "-2.5e-9"), (9007199254740992, "9007199254740992"), (.leastNonzeroMagnitude, "5e-324"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"), (0.1 + 0.2, "0.30000000000000004"),
            (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ]
        for (value, expected) in doubles { XCTAssertEqual(DeterministicJSON.number(value), expected, "\(value)") }
        let floats: [(Float, String)] = [
            (0.1, "0.1"), (0.93, "0.93"), (16_777_216, "16777216"), (1e-8, "1e-8"), (3.4028235e38, "3.4028235e+38"), (.nan, "null"),
        ]
        for (value, expected) in floats { XCTAssertEqual(DeterministicJSON.number(value), expected, "\(value)") }
    }

    func testNumbersRoundTrip() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let double = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if double.isFinite {
                let text = DeterministicJSON.number(double)
                XCTAssertEqual(Double(text), double == 0 ? 0 : double, text)
            }
            let float = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
            if float.isFinite {
                let text = DeterministicJSON.number(float)
                XCTAssertEqual(Float(text), float == 0 ? 0 : float, text)
            }
        }
    }

    func testObjectsSortKeysByUTF8Bytes() throws {
        let value: JSONValue = ["b": 1, "a": 2, "\u{E9}": 3, "Z": 4, "aa": 5, "\u{1F600}": 6, "\u{FF61}": 7]
        XCTAssertEqual(DeterministicJSON().encode(value),
                       "{\"Z\":4,\"a\":2,\"aa\":5,\"b\":1,\"\u{E9}\":3,\"\u{FF61}\":7,\"\u{1F600}\":6}")
        let ordered = JSONValue.orderedObject([("url", "u"), ("caption", "c")])
        XCTAssertEqual(DeterministicJSON().encode(ordered), #"{"url":"u","caption":"c"}"#)
    }

    func testIndentedLayout() throws {
        let value: JSONValue = ["name": "x", "list": [1, 2.5, .float(0.25), nil, true], "empty": [:], "none": []]
        let text = DeterministicJSON(indent: 2).encode(value)
        XCTAssertEqual(text, """
            {
              "empty": {},
              "list": [
                1,
                2.5,
                0.25,
                null,
                true
              ],
              "name": "x",
              "none": []
            }
            """)
        let compact = DeterministicJSON().encode(value)
        XCTAssertEqual(compact, #"{"empty":{},"list":[1,2.5,0.25,null,true],"name":"x","none":[]}"#)
        XCTAssertEqual(try parse(text) as? NSDictionary, try parse(compact) as? NSDictionary)
    }

    func testLineBreaksAndTabsEscapesNameOnlyThose() {
        XCTAssertEqual(DeterministicJSON.quote("\u{8}\u{C}\n\r\t\"\\", escaping: .lineBreaksAndTabs),
                       #""\u0008\u000c\n\r\t\"\\""#)
        let line = DeterministicJSON(escaping: .lineBreaksAndTabs)
            .encode(.orderedObject([("b", .number("1e-05")), ("a", .string("x\u{1}y"))]))
        XCTAssertEqual(line, #"{"b":1e-05,"a":"x\u0001y"}"#)
    }

    func testNumberTextIsCopiedAsGiven() {
        XCTAssertEqual(DeterministicJSON().encode(.array([.number("100.0"), .number("-0"), .int(-3)])), "[100.0,-0,-3]")
    }
}
