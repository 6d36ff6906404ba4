/// BLIP's `pre_caption` (data/utils.py):
///
///     caption = re.sub(r"([.!\"()*#:;~])", ' ', caption.lower())
///     caption = re.sub(r"\s{2,}", ' ', caption)
///     caption = caption.rstrip('\n').strip(' ')
///     words = caption.split(' '); keep the first max_words
///
/// with Python's `str.lower` (full case mapping, final sigma) and `\s` (str.isspace).
public func preCaption(_ caption: String, maxWords: Int = 50) -> String {
    let source = Array(caption.unicodeScalars)

    // caption.lower(), then the punctuation substitution.
    var lowered: [Unicode.Scalar] = []
    lowered.reserveCapacity(source.count)
    for (i, s) in source.enumerated() {
        let v = s.value
        if v < 0x80 {
            let c = v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 0x20)! : s
            lowered.append(PreCaptionRules.isReplacedPunctuation(c.value) ? " " : c)
        } else if v == 0x3A3 {
            lowered.append(PreCaptionRules.lowercaseCapitalSigma(in: source, at: i))
        } else {
            lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
    }

    // re.sub(r"\s{2,}", " ", caption)
    var collapsed: [Unicode.Scalar] = []
    collapsed.reserveCapacity(lowered.count)
    var i = 0
    while i < lowered.count {
        if PreCaptionRules.isPythonWhitespace(lowered[i].value) {
            var j = i + 1
            while j < lowered.count && PreCaptionRules.isPythonWhitespace(lowered[j].value) { j += 1 }
            if j - i >= 2 {
                collapsed.append(" ")
            } else {
                collapsed.append(lowered[i])
            }
            i = j
        } else {
            collapsed.append(lowered[i])
            i += 1
        }
    }

    // .rstrip('\n'), then .strip(' ')
    var end = collapsed.count
    while end > 0 && collapsed[end - 1] == "\n" { end -= 1 }
    while end > 0 && collapsed[end - 1] == " " { end -= 1 }
    var start = 0
    while start < end && collapsed[start] == " " { start += 1 }
    var kept = collapsed[start..<end]

    // ' '.join(caption.split(' ')[:max_words]) when there are more words than that.
    let words = kept.split(separator: " ", omittingEmptySubsequences: false)
    if words.count > maxWords {
        let keep = maxWords >= 0 ? maxWords : max(0, words.count + maxWords)
        var joined: [Unicode.Scalar] = []
        for (n, w) in words.prefix(keep).enumerated() {
            if n > 0 { joined.append(" ") }
            joined.append(contentsOf: w)
        }
        kept = joined[...]
    }
    var result = String.UnicodeScalarView()
    result.append(contentsOf: kept)
    return String(result)
}

enum PreCaptionRules {
    /// The characters of BLIP's `[.!\"()*#:;~]`.
    static func isReplacedPunctuation(_ v: UInt32) -> Bool {
        switch v {
        case 0x2E, 0x21, 0x22, 0x28, 0x29, 0x2A, 0x23, 0x3A, 0x3B, 0x7E: return true
        default: return false
        }
    }

    /// Python's `str.isspace` (what `\s` matches in a str pattern): bidirectional class
    /// WS, B or S, or category Zs.
    static func isPythonWhitespace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
            0x3000:
            return true
        default:
            return false
        }
    }

    /// CPython's `handle_capital_sigma`: Σ becomes final ς after a cased letter (ignoring
    /// case-ignorable characters) unless another cased letter follows.
    static func lowercaseCapitalSigma(in text: [Unicode.Scalar], at i: Int) -> Unicode.Scalar {
        var j = i - 1
        while j >= 0 && text[j].properties.isCaseIgnorable { j -= 1 }
        var isFinal = j >= 0 && text[j].properties.isCased
        if isFinal && i + 1 < text.count {
            var k = i + 1
            while k < text.count && text[k].properties.isCaseIgnorable { k += 1 }
            isFinal = k == text.count || !text[k].properties.isCased
        }
        return isFinal ? "\u{3C2}" : "\u{3C3}"
    }
}
