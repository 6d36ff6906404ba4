import Foundation

public enum BertTokenizerError: Error, CustomStringConvertible {
    case missingBundledVocabulary
    case unreadableVocabulary(URL, underlying: any Error)

    public var description: String {
        switch self {
        case .missingBundledVocabulary:
            return "the bundled vocab.txt resource is missing"
        case .unreadableVocabulary(let url, let underlying):
            return "cannot read vocabulary \(url.path): \(underlying)"
        }
    }
}

/// The bert-base-uncased WordPiece tokenizer with BLIP's [DEC] and [ENC] tokens, matching
/// transformers' `BertTokenizer` (backed by the Rust tokenizers library) after BLIP's
/// `init_tokenizer`.
public struct BertTokenizer: Sendable {
    public static let padID = 0, unkID = 100, clsID = 101, sepID = 102, decID = 30522, encID = 30523

    /// The added special tokens: matched verbatim in raw text, skipped when decoding.
    private static let specialTokenNames = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "[ENC]"]

    private let vocabulary: BertVocabulary
    private let model: WordPieceModel
    private let basic = BertBasicTokenizer()
    private let specialTokens: [(scalars: [Unicode.Scalar], id: Int)]
    private let specialIDs: Set<Int>
    /// First scalars of the special tokens, to skip the match attempt almost everywhere.
    private let specialStarts: [Unicode.Scalar]
    private let resolvedCLS: Int
    private let resolvedSEP: Int

    /// Loads vocab.txt (one token per line); [DEC] and [ENC] get the next free ids unless the
    /// file already has them, so the 30522-line BERT file gives 30522 and 30523.
    public init(vocabURL: URL) throws {
        let contents: String
        do {
            contents = try String(contentsOf: vocabURL, encoding: .utf8)
        } catch {
            throw BertTokenizerError.unreadableVocabulary(vocabURL, underlying: error)
        }
        var vocabulary = BertVocabulary(fileContents: contents)
        vocabulary.add("[DEC]")
        vocabulary.add("[ENC]")
        self.init(vocabulary: vocabulary)
    }

    private init(vocabulary: BertVocabulary) {
        self.vocabulary = vocabulary
        model = WordPieceModel(vocabulary: vocabulary, unknownID: vocabulary.id(for: "[UNK]") ?? Self.unkID)
        var specials: [(scalars: [Unicode.Scalar], id: Int)] = []
        for name in Self.specialTokenNames {
            if let id = vocabulary.id(for: name) { specials.append((Array(name.unicodeScalars), id)) }
        }
        specialTokens = specials
        specialIDs = Set(specials.map(\.id))
        specialStarts = Array(Set(specials.compactMap(\.scalars.first)))
        resolvedCLS = vocabulary.id(for: "[CLS]") ?? Self.clsID
        resolvedSEP = vocabulary.id(for: "[SEP]") ?? Self.sepID
    }

    private static let bundledResult: Result<BertTokenizer, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "vocab", withExtension: "txt") else {
            throw BertTokenizerError.missingBundledVocabulary
        }
        return try BertTokenizer(vocabURL: url)
    }

    /// The tokenizer for the package's bert-base-uncased vocabulary (loaded once).
    public static func bundled() throws -> BertTokenizer {
        try bundledResult.get()
    }

    /// Uses `modelFolder/vocab.txt` when present, else the bundled vocabulary.
    public init(modelFolder: URL) throws {
        let url = modelFolder.appendingPathComponent("vocab.txt")
        if FileManager.default.fileExists(atPath: url.path) {
            try self.init(vocabURL: url)
        } else {
            self = try Self.bundled()
        }
    }

    public var vocabularySize: Int { vocabulary.count }

    public func token(for id: Int) -> String? { vocabulary.token(for: id) }

    public func id(for token: String) -> Int? { vocabulary.id(for: token) }

    /// Wordpieces of `text`, special tokens in the text kept whole (`tokenizer.tokenize`).
    public func tokenize(_ text: String) -> [String] {
        pieceIDs(text).map { vocabulary.token(for: $0) ?? "[UNK]" }
    }

    /// `tokenizer(text, truncation=maxLength != nil, max_length=maxLength)["input_ids"]`.
    /// Truncation drops wordpieces from the end and keeps [CLS] and [SEP]; like transformers, a
    /// limit too small to hold both special tokens leaves the sequence untruncated.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int? = nil) -> [Int] {
        var ids = pieceIDs(text)
        if addSpecialTokens {
            if let maxLength, maxLength >= 2, ids.count > maxLength - 2 {
                ids.removeSubrange((maxLength - 2)...)
            }
            ids.insert(resolvedCLS, at: 0)
            ids.append(resolvedSEP)
        } else if let maxLength, maxLength >= 0, ids.count > maxLength {
            ids.removeSubrange(maxLength...)
        }
        return ids
    }

    /// `tokenizer.decode(ids, skip_special_tokens=...)`: the Rust WordPiece decoder, which joins
    /// pieces and cleans up each piece on its own. transformers 5 leaves
    /// `clean_up_tokenization_spaces` off for BERT, so no cleanup runs over the whole string.
    /// Ids outside the vocabulary are dropped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var out: [UInt8] = []
        var piece: [UInt8] = []
        var index = 0
        for id in ids {
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            guard var token = vocabulary.token(for: id) else { continue }
            piece.removeAll(keepingCapacity: true)
            token.withUTF8 { bytes in
                if index == 0 {
                    piece.append(contentsOf: bytes)
                } else if bytes.count >= 2 && bytes[0] == 0x23 && bytes[1] == 0x23 {
                    piece.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[2...]))
                } else {
                    piece.append(0x20)
                    piece.append(contentsOf: bytes)
                }
            }
            Self.cleanUp(&piece)
            out.append(contentsOf: piece)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Encoding

    /// Wordpiece ids without [CLS]/[SEP]. Special tokens are cut out of the raw text first
    /// (tokenizers' AddedVocabulary, leftmost-longest, case-sensitive); the pieces between
    /// them are normalized and split independently.
    private func pieceIDs(_ text: String) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        ids.reserveCapacity(scalars.count / 4 + 4)
        var words = BertWordList()
        var scratch = WordPieceModel.Scratch()
        var segmentStart = 0
        var i = 0
        while i < scalars.count {
            if let (length, id) = specialToken(in: scalars, at: i) {
                appendSegment(scalars[segmentStart..<i], to: &ids, words: &words, scratch: &scratch)
                ids.append(id)
                i += length
                segmentStart = i
            } else {
                i += 1
            }
        }
        appendSegment(scalars[segmentStart...], to: &ids, words: &words, scratch: &scratch)
        return ids
    }

    @inline(__always)
    private func specialToken(in scalars: [Unicode.Scalar], at i: Int) -> (length: Int, id: Int)? {
        guard specialStarts.contains(scalars[i]) else { return nil }
        var best: (length: Int, id: Int)?
        for special in specialTokens where special.scalars.first == scalars[i] {
            let n = special.scalars.count
            guard i + n <= scalars.count, n > (best?.length ?? 0) else { continue }
            if scalars[i..<(i + n)].elementsEqual(special.scalars) { best = (n, special.id) }
        }
        return best
    }

    private func appendSegment(
        _ segment: ArraySlice<Unicode.Scalar>, to ids: inout [Int], words: inout BertWordList,
        scratch: inout WordPieceModel.Scratch
    ) {
        guard !segment.isEmpty else { return }
        words.removeAll()
        basic.appendWords(of: segment, to: &words)
        words.bytes.withUnsafeBufferPointer { buffer in
            for w in 0..<words.count {
                model.appendIDs(
                    of: UnsafeBufferPointer(rebasing: buffer[words.range(of: w)]),
                    scalarCount: words.scalarCounts[w], to: &ids, scratch: &scratch)
            }
        }
    }

    // MARK: - Decoding

    /// tokenizers' `decoders::wordpiece::cleanup`, applied to one piece: plain substring
    /// replacements in this order.
    private static let cleanupRules: [(pattern: [UInt8], replacement: [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    private static func cleanUp(_ piece: inout [UInt8]) {
        // Every pattern starts with a space.
        guard piece.contains(0x20) else { return }
        for rule in cleanupRules {
            replaceAll(&piece, rule.pattern, rule.replacement)
        }
    }

    /// Non-overlapping, left-to-right replacement, as `str::replace`.
    private static func replaceAll(_ bytes: inout [UInt8], _ pattern: [UInt8], _ replacement: [UInt8]) {
        guard bytes.count >= pattern.count else { return }
        var result: [UInt8] = []
        var i = 0
        var replaced = false
        while i < bytes.count {
            if i + pattern.count <= bytes.count && bytes[i] == pattern[0]
                && bytes[i..<(i + pattern.count)].elementsEqual(pattern)
            {
                if !replaced {
                    result.reserveCapacity(bytes.count)
                    result.append(contentsOf: bytes[..<i])
                    replaced = true
                }
                result.append(contentsOf: replacement)
                i += pattern.count
            } else {
                if replaced { result.append(bytes[i]) }
                i += 1
            }
        }
        if replaced { bytes = result }
    }
}

extension BertTokenizer {
    /// Token sequences as one batch: ids [N, L] padded with [PAD] and the key mask [N, L] (1 on
    /// tokens, 0 on padding). L is `length`, or the longest sequence when nil.
    public static func padded(_ sequences: [[Int]], length: Int? = nil) -> (ids: [Int], keyValid: [Float]) {
        let width = length ?? sequences.map(\.count).max() ?? 0
        var ids: [Int] = [], valid: [Float] = []
        ids.reserveCapacity(sequences.count * width)
        valid.reserveCapacity(sequences.count * width)
        for s in sequences {
            ids += s + Array(repeating: padID, count: width - s.count)
            valid += Array(repeating: 1, count: s.count) + Array(repeating: 0, count: width - s.count)
        }
        return (ids, valid)
    }
}
