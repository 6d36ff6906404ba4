/// Words of a text as UTF-8, stored back to back to avoid one allocation per word.
struct BertWordList {
    var bytes: [UInt8] = []
    /// For each word: end offset into `bytes` and its length in scalars.
    var ends: [Int] = []
    var scalarCounts: [Int] = []

    var count: Int { ends.count }

    func range(of word: Int) -> Range<Int> {
        (word == 0 ? 0 : ends[word - 1])..<ends[word]
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        scalarCounts.removeAll(keepingCapacity: true)
    }
}

/// The uncased BERT normalizer and pre-tokenizer: tokenizers' `BertNormalizer(clean_text=True,
/// handle_chinese_chars=True, strip_accents=None, lowercase=True)` followed by `BertPreTokenizer`.
/// The steps run in the Rust order (clean, Chinese, strip accents, lowercase), which differs from
/// the old Python BasicTokenizer (lowercase before stripping).
struct BertBasicTokenizer: Sendable {
    private let classes = BertCharacterClasses.shared

    init() {}

    /// Normalizes `text` (which holds no special tokens) and appends its words to `words`.
    func appendWords<C: Collection>(of text: C, to words: inout BertWordList)
    where C.Element == Unicode.Scalar {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(text.count + 8)
        var needsDecomposition = false

        // BertNormalizer::do_clean_text, then do_handle_chinese_chars.
        for s in text {
            let v = s.value
            if v < 0x80 {
                if v >= 0x20 && v != 0x7F {
                    cleaned.append(s)
                } else if v == 0x09 || v == 0x0A || v == 0x0D {
                    cleaned.append(" ")
                }
                continue
            }
            let f = classes.flags(v)
            if f.contains(.control) { continue }
            if f.contains(.cleanSpace) {
                cleaned.append(" ")
            } else if f.contains(.chinese) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
            // Scalars below U+00C0 neither decompose nor are marks.
            if v >= 0xC0 { needsDecomposition = true }
        }

        // BertNormalizer::do_strip_accents: NFD over the whole segment, then drop Mn.
        let decomposed = needsDecomposition ? nfd(cleaned) : cleaned

        // BertNormalizer::do_lowercase, fused with BertPreTokenizer (split on whitespace,
        // isolate punctuation).
        var wordScalars = 0
        var lowered: [Unicode.Scalar] = []
        for s in decomposed {
            let v = s.value
            if v < 0x80 {
                if v == 0x20 || (v >= 0x09 && v <= 0x0D) {
                    finishWord(&words, &wordScalars)
                } else if Self.isASCIIPunctuation(v) {
                    finishWord(&words, &wordScalars)
                    words.bytes.append(UInt8(v))
                    wordScalars = 1
                    finishWord(&words, &wordScalars)
                } else {
                    words.bytes.append(v >= 0x41 && v <= 0x5A ? UInt8(v + 0x20) : UInt8(v))
                    wordScalars += 1
                }
                continue
            }
            let f = classes.flags(v)
            if f.contains(.nonspacingMark) { continue }
            if f.contains(.lowercases) {
                lowered.removeAll(keepingCapacity: true)
                classes.appendLowercase(of: s, to: &lowered)
                for l in lowered { appendPreTokenized(l, to: &words, &wordScalars) }
            } else {
                appendPreTokenized(s, flags: f, to: &words, &wordScalars)
            }
        }
        finishWord(&words, &wordScalars)
    }

    @inline(__always)
    private func appendPreTokenized(_ s: Unicode.Scalar, to words: inout BertWordList, _ wordScalars: inout Int) {
        appendPreTokenized(s, flags: s.value < 0x80 ? Self.asciiFlags(s.value) : classes.flags(s.value),
                           to: &words, &wordScalars)
    }

    @inline(__always)
    private func appendPreTokenized(
        _ s: Unicode.Scalar, flags f: BertCharacterFlags, to words: inout BertWordList, _ wordScalars: inout Int
    ) {
        if f.contains(.whitespace) {
            finishWord(&words, &wordScalars)
        } else if f.contains(.punctuation) {
            finishWord(&words, &wordScalars)
            appendUTF8(s, to: &words.bytes)
            wordScalars = 1
            finishWord(&words, &wordScalars)
        } else {
            appendUTF8(s, to: &words.bytes)
            wordScalars += 1
        }
    }

    @inline(__always)
    private func finishWord(_ words: inout BertWordList, _ wordScalars: inout Int) {
        guard wordScalars > 0 else { return }
        words.ends.append(words.bytes.count)
        words.scalarCounts.append(wordScalars)
        wordScalars = 0
    }

    /// Canonical decomposition with canonical ordering of combining marks (NFD).
    private func nfd(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count + scalars.count / 4)
        var expanded: [Unicode.Scalar] = []
        for s in scalars {
            if s.value < 0xC0 || !classes.flags(s.value).contains(.decomposes) {
                appendOrdered(s, to: &out)
            } else {
                expanded.removeAll(keepingCapacity: true)
                classes.appendDecomposition(of: s, to: &expanded)
                for d in expanded { appendOrdered(d, to: &out) }
            }
        }
        return out
    }

    /// Inserts a scalar, moving a non-starter before preceding non-starters of higher class.
    @inline(__always)
    private func appendOrdered(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let ccc = Self.combiningClass(s)
        out.append(s)
        guard ccc != 0 else { return }
        var i = out.count - 1
        while i > 0 {
            let prev = Self.combiningClass(out[i - 1])
            if prev == 0 || prev <= ccc { break }
            out.swapAt(i, i - 1)
            i -= 1
        }
    }

    @inline(__always)
    private static func combiningClass(_ s: Unicode.Scalar) -> UInt8 {
        s.value < 0x300 ? 0 : s.properties.canonicalCombiningClass.rawValue
    }

    @inline(__always)
    static func isASCIIPunctuation(_ v: UInt32) -> Bool {
        (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
    }

    @inline(__always)
    private static func asciiFlags(_ v: UInt32) -> BertCharacterFlags {
        if v == 0x20 || (v >= 0x09 && v <= 0x0D) { return .whitespace }
        return isASCIIPunctuation(v) ? .punctuation : []
    }

    @inline(__always)
    private func appendUTF8(_ s: Unicode.Scalar, to bytes: inout [UInt8]) {
        let v = s.value
        if v < 0x80 {
            bytes.append(UInt8(v))
        } else if v < 0x800 {
            bytes.append(UInt8(0xC0 | (v >> 6)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            bytes.append(UInt8(0xE0 | (v >> 12)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        } else {
            bytes.append(UInt8(0xF0 | (v >> 18)))
            bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
