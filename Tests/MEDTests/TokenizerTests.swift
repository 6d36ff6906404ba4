import Foundation
import XCTest

@testable import MED

/// Golden data written by scripts/make_tokenizer_fixtures.py from transformers' BertTokenizer.
private struct TokenizerGolden: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let tokens: [String]
        let decoded: String
        let decoded_with_special: String
        let pre_caption: String
        let pre_caption_5: String
    }
    struct Truncation: Decodable {
        let text: String
        let max_length: Int
        let add_special_tokens: Bool
        let ids: [Int]
    }
    struct Decode: Decodable {
        let ids: [Int]
        let skip_special_tokens: Bool
        let text: String
    }
    let transformers: String
    let vocab_size: Int
    let cases: [Case]
    let truncation: [Truncation]
    let decode: [Decode]
}

/// Compares by scalars: `String ==` is canonical equivalence and would hide NFD differences.
private func same(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.elementsEqual(b.unicodeScalars)
}

private func same(_ a: [String], _ b: [String]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
}

/// The input as a Swift literal, so invisible and control characters show.
private func shown(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        if u.value >= 0x20 && u.value < 0x7F && u != "\"" && u != "\\" {
            out.unicodeScalars.append(u)
        } else if u.value >= 0xA0 && u.properties.generalCategory != .format
            && !u.properties.isWhitespace && u.properties.generalCategory != .nonspacingMark
        {
            out.unicodeScalars.append(u)
        } else {
            out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
        }
    }
    return out + "\""
}

private func shown(_ tokens: [String]) -> String {
    "[" + tokens.map { shown($0) }.joined(separator: ", ") + "]"
}

final class TokenizerTests: XCTestCase {
    private static let golden: TokenizerGolden? = {
        guard let url = Bundle.module.url(forResource: "tokenizer_golden", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return try? JSONDecoder().decode(TokenizerGolden.self, from: data)
    }()

    private func loadGolden() throws -> TokenizerGolden {
        try XCTUnwrap(Self.golden, "Fixtures/tokenizer_golden.json missing or unreadable")
    }

    private func report(_ failures: [String], of total: Int, _ what: String) {
        guard !failures.isEmpty else { return }
        XCTFail("\(failures.count) mismatches in \(total) \(what); first ones:\n"
            + failures.prefix(8).joined(separator: "\n"))
    }

    // MARK: - Golden parity

    func testGoldenEncodeMatchesTransformers() throws {
        let golden = try loadGolden()
        let tok = try BertTokenizer.bundled()
        XCTAssertEqual(tok.vocabularySize, golden.vocab_size)
        XCTAssertGreaterThanOrEqual(golden.cases.count, 300)
        var failures: [String] = []
        for c in golden.cases {
            let ids = tok.encode(c.text)
            if ids != c.ids {
                failures.append("ids for \(shown(c.text)): got \(ids), expected \(c.ids)")
            }
            let tokens = tok.tokenize(c.text)
            if !same(tokens, c.tokens) {
                failures.append("tokens for \(shown(c.text)): got \(shown(tokens)), expected \(shown(c.tokens))")
            }
        }
        report(failures, of: golden.cases.count, "encodings")
    }

    func testGoldenDecodeOfEncodingMatchesTransformers() throws {
        let golden = try loadGolden()
        let tok = try BertTokenizer.bundled()
        var failures: [String] = []
        for c in golden.cases {
            let plain = tok.decode(c.ids, skipSpecialTokens: true)
            if !same(plain, c.decoded) {
                failures.append("decode of \(shown(c.text)): got \(shown(plain)), expected \(shown(c.decoded))")
            }
            let withSpecial = tok.decode(c.ids, skipSpecialTokens: false)
            if !same(withSpecial, c.decoded_with_special) {
                failures.append(
                    "decode (special kept) of \(shown(c.text)): got \(shown(withSpecial)), expected \(shown(c.decoded_with_special))")
            }
        }
        report(failures, of: golden.cases.count, "decodes")
    }

    func testGoldenPreCaptionMatchesBLIP() throws {
        let golden = try loadGolden()
        var failures: [String] = []
        for c in golden.cases {
            let p = preCaption(c.text)
            if !same(p, c.pre_caption) {
                failures.append("pre_caption of \(shown(c.text)): got \(shown(p)), expected \(shown(c.pre_caption))")
            }
            let p5 = preCaption(c.text, maxWords: 5)
            if !same(p5, c.pre_caption_5) {
                failures.append("pre_caption(5) of \(shown(c.text)): got \(shown(p5)), expected \(shown(c.pre_caption_5))")
            }
        }
        report(failures, of: golden.cases.count, "pre_captions")
    }

    func testGoldenTruncationMatchesTransformers() throws {
        let golden = try loadGolden()
        let tok = try BertTokenizer.bundled()
        var failures: [String] = []
        for t in golden.truncation {
            let ids = tok.encode(t.text, addSpecialTokens: t.add_special_tokens, maxLength: t.max_length)
            if ids != t.ids {
                failures.append(
                    "max_length=\(t.max_length) special=\(t.add_special_tokens) \(shown(t.text)): got \(ids), expected \(t.ids)")
            }
        }
        report(failures, of: golden.truncation.count, "truncations")
    }

    func testGoldenDecodeOfArbitraryIDsMatchesTransformers() throws {
        let golden = try loadGolden()
        let tok = try BertTokenizer.bundled()
        var failures: [String] = []
        for d in golden.decode {
            let text = tok.decode(d.ids, skipSpecialTokens: d.skip_special_tokens)
            if !same(text, d.text) {
                failures.append("decode \(d.ids) skip=\(d.skip_special_tokens): got \(shown(text)), expected \(shown(d.text))")
            }
        }
        report(failures, of: golden.decode.count, "id decodes")
    }

    // MARK: - Focused behaviour

    func testBLIPSpecialTokenIDs() throws {
        let tok = try BertTokenizer.bundled()
        XCTAssertEqual(tok.vocabularySize, 30524)
        XCTAssertEqual(tok.id(for: "[DEC]"), BertTokenizer.decID)
        XCTAssertEqual(tok.id(for: "[ENC]"), BertTokenizer.encID)
        XCTAssertEqual(tok.id(for: "[PAD]"), BertTokenizer.padID)
        XCTAssertEqual(tok.id(for: "[UNK]"), BertTokenizer.unkID)
        XCTAssertEqual(tok.id(for: "[CLS]"), BertTokenizer.clsID)
        XCTAssertEqual(tok.id(for: "[SEP]"), BertTokenizer.sepID)
        XCTAssertEqual(tok.token(for: 30522), "[DEC]")
        XCTAssertEqual(tok.token(for: 30523), "[ENC]")
        XCTAssertNil(tok.token(for: 30524))
        XCTAssertNil(tok.token(for: -1))
        XCTAssertEqual(tok.encode("[DEC] a dog"), [101, 30522, 1037, 3899, 102])
        XCTAssertEqual(tok.tokenize("x[ENC]y"), ["x", "[ENC]", "y"])
        // Only the exact, case-sensitive spelling is special.
        XCTAssertEqual(tok.tokenize("[dec]"), ["[", "dec", "]"])
    }

    func testEncodeBasics() throws {
        let tok = try BertTokenizer.bundled()
        XCTAssertEqual(tok.encode(""), [101, 102])
        XCTAssertEqual(tok.encode("", addSpecialTokens: false), [])
        XCTAssertEqual(tok.tokenize("Hello, World!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(tok.tokenize("Ångström café"), ["ang", "##strom", "cafe"])
        XCTAssertEqual(tok.tokenize("中国人"), ["中", "国", "人"])
        XCTAssertEqual(tok.tokenize(String(repeating: "a", count: 101)), ["[UNK]"])
        XCTAssertEqual(tok.encode("a dog", addSpecialTokens: false), [1037, 3899])
    }

    func testTruncationKeepsSeparatorLast() throws {
        let tok = try BertTokenizer.bundled()
        let ids = tok.encode("the quick brown fox jumps over the lazy dog", maxLength: 5)
        XCTAssertEqual(ids, [101, 1996, 4248, 2829, 102])
        XCTAssertEqual(tok.encode("the quick brown fox", maxLength: 2), [101, 102])
        XCTAssertEqual(tok.encode("a dog", maxLength: 30), [101, 1037, 3899, 102])
    }

    func testDecodeRoundTrip() throws {
        let tok = try BertTokenizer.bundled()
        for caption in [
            "a man riding a wave on top of a surfboard", "two dogs playing with a frisbee in the park",
            "a plate of food with broccoli and rice", "an unbelievably photogenic mountaineer",
        ] {
            XCTAssertEqual(tok.decode(tok.encode(caption)), caption)
        }
        XCTAssertEqual(tok.decode(tok.encode("A Dog, Running!")), "a dog, running!")
        XCTAssertEqual(tok.decode([101, 30522, 1037, 3899, 102], skipSpecialTokens: false), "[CLS] [DEC] a dog [SEP]")
        XCTAssertEqual(tok.decode([30522, 1037, 3899, 102, 0, 0]), "a dog")
    }

    func testModelFolderVocabularyWins() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("capfilt-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // Without vocab.txt the bundled vocabulary is used.
        XCTAssertEqual(try BertTokenizer(modelFolder: folder).vocabularySize, 30524)

        let lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "dog", "##s", "a", "cat"]
        try (lines.joined(separator: "\n") + "\n").write(
            to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let tok = try BertTokenizer(modelFolder: folder)
        XCTAssertEqual(tok.vocabularySize, lines.count + 2)
        XCTAssertEqual(tok.id(for: "[DEC]"), lines.count)
        XCTAssertEqual(tok.id(for: "[ENC]"), lines.count + 1)
        XCTAssertEqual(tok.encode("A dogs cat bird"), [2, 7, 5, 6, 8, 1, 3])
        XCTAssertEqual(tok.decode([2, 7, 5, 6, 8, 1, 3]), "a dogs cat")
    }

    func testVocabularyFileWithOwnBLIPTokensKeepsTheirIDs() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try "[PAD]\n[ENC]\n[UNK]\n[DEC]\n[CLS]\n[SEP]\nhi\r\n".write(to: url, atomically: true, encoding: .utf8)
        let tok = try BertTokenizer(vocabURL: url)
        XCTAssertEqual(tok.vocabularySize, 7)
        XCTAssertEqual(tok.id(for: "[ENC]"), 1)
        XCTAssertEqual(tok.id(for: "[DEC]"), 3)
        XCTAssertEqual(tok.id(for: "hi"), 6)
        XCTAssertEqual(tok.encode("[DEC] hi ho"), [4, 3, 6, 2, 5])
    }

    func testPreCaption() {
        XCTAssertEqual(preCaption("A Dog, running (fast)!  On the beach..."), "a dog, running fast on the beach")
        XCTAssertEqual(preCaption("  \"quoted\" *stars* #tag: a;b~c  \n"), "quoted stars tag a b c")
        XCTAssertEqual(preCaption("one two three four", maxWords: 2), "one two")
        XCTAssertEqual(preCaption(""), "")
        XCTAssertEqual(preCaption("ΟΔΟΣ"), "οδος")
        XCTAssertEqual(preCaption("a\tb"), "a\tb")
        XCTAssertEqual(preCaption("a \t b"), "a b")
    }

    func testConcurrentUseGivesSameResults() async throws {
        let tok = try BertTokenizer.bundled()
        let captions = (0..<64).map { "caption number \($0): a photo of \($0 % 7) cats, naïve café 猫!" }
        let expected = captions.map { tok.encode($0) }
        let results = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, c) in captions.enumerated() { group.addTask { (i, tok.encode(c)) } }
            var out = [[Int]](repeating: [], count: captions.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        XCTAssertEqual(results, expected)
    }
}
