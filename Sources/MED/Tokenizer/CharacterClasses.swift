/// A set of scalars given as sorted, inclusive `[lo, hi]` pairs.
struct ScalarRangeSet: Sendable {
    private let bounds: [UInt32]

    init(pairs: [UInt32]) {
        precondition(pairs.count % 2 == 0)
        bounds = pairs
    }

    func contains(_ v: UInt32) -> Bool {
        // Binary search for the last pair whose lower bound is <= v.
        var lo = 0, hi = bounds.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if bounds[2 * mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && v <= bounds[2 * (lo - 1) + 1]
    }

    func forEachRange(_ body: (UInt32, UInt32) -> Void) {
        var i = 0
        while i < bounds.count {
            body(bounds[i], bounds[i + 1])
            i += 2
        }
    }
}

/// Per-scalar properties used by the Rust BertNormalizer and BertPreTokenizer.
struct BertCharacterFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let control = BertCharacterFlags(rawValue: 1)
    static let cleanSpace = BertCharacterFlags(rawValue: 2)
    static let chinese = BertCharacterFlags(rawValue: 4)
    static let nonspacingMark = BertCharacterFlags(rawValue: 8)
    static let whitespace = BertCharacterFlags(rawValue: 16)
    static let punctuation = BertCharacterFlags(rawValue: 32)
    static let decomposes = BertCharacterFlags(rawValue: 64)
    static let lowercases = BertCharacterFlags(rawValue: 128)
}

/// The generated tables in a form that is cheap to query: a flag byte per BMP scalar
/// (one array load for nearly all text), range searches above it.
struct BertCharacterClasses: Sendable {
    static let shared = BertCharacterClasses()

    private let bmp: [BertCharacterFlags]
    private let control: ScalarRangeSet
    private let cleanSpace: ScalarRangeSet
    private let chinese: ScalarRangeSet
    private let nonspacingMark: ScalarRangeSet
    private let whitespace: ScalarRangeSet
    private let punctuation: ScalarRangeSet
    private let decompositions: [UInt32: [Unicode.Scalar]]
    private let lowercaseMappings: [UInt32: [Unicode.Scalar]]

    private init() {
        let T = BertUnicodeTables.self
        control = ScalarRangeSet(pairs: T.control)
        cleanSpace = ScalarRangeSet(pairs: T.cleanSpace)
        chinese = ScalarRangeSet(pairs: T.chinese)
        nonspacingMark = ScalarRangeSet(pairs: T.nonspacingMark)
        whitespace = ScalarRangeSet(pairs: T.whitespace)
        punctuation = ScalarRangeSet(pairs: T.punctuation)
        decompositions = Self.parseMapping(T.decompositions)
        lowercaseMappings = Self.parseMapping(T.lowercase)

        var table = [BertCharacterFlags](repeating: [], count: 0x10000)
        let sets: [(ScalarRangeSet, BertCharacterFlags)] = [
            (control, .control), (cleanSpace, .cleanSpace), (chinese, .chinese),
            (nonspacingMark, .nonspacingMark), (whitespace, .whitespace), (punctuation, .punctuation),
        ]
        for (set, flag) in sets {
            set.forEachRange { lo, hi in
                guard lo < 0x10000 else { return }
                for v in lo...min(hi, 0xFFFF) { table[Int(v)].insert(flag) }
            }
        }
        for v in decompositions.keys where v < 0x10000 { table[Int(v)].insert(.decomposes) }
        for v in 0xAC00...0xD7A3 { table[v].insert(.decomposes) }
        for v in lowercaseMappings.keys where v < 0x10000 { table[Int(v)].insert(.lowercases) }
        bmp = table
    }

    @inline(__always)
    func flags(_ v: UInt32) -> BertCharacterFlags {
        if v < 0x10000 { return bmp[Int(v)] }
        var f: BertCharacterFlags = []
        if control.contains(v) { f.insert(.control) }
        if cleanSpace.contains(v) { f.insert(.cleanSpace) }
        if chinese.contains(v) { f.insert(.chinese) }
        if nonspacingMark.contains(v) { f.insert(.nonspacingMark) }
        if whitespace.contains(v) { f.insert(.whitespace) }
        if punctuation.contains(v) { f.insert(.punctuation) }
        if decompositions[v] != nil { f.insert(.decomposes) }
        if lowercaseMappings[v] != nil { f.insert(.lowercases) }
        return f
    }

    /// Appends the full canonical decomposition of `s` (unicode-normalization's `decompose_canonical`).
    @inline(__always)
    func appendDecomposition(of s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let v = s.value
        if v >= 0xAC00 && v <= 0xD7A3 {
            // Hangul syllables decompose algorithmically (Unicode §3.12).
            let index = v - 0xAC00
            out.append(Unicode.Scalar(0x1100 + index / 588)!)
            out.append(Unicode.Scalar(0x1161 + (index % 588) / 28)!)
            let trail = index % 28
            if trail != 0 { out.append(Unicode.Scalar(0x11A7 + trail)!) }
        } else if let d = decompositions[v] {
            out.append(contentsOf: d)
        } else {
            out.append(s)
        }
    }

    /// Appends the lowercase mapping of `s` (Rust `char::to_lowercase`).
    @inline(__always)
    func appendLowercase(of s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        if let m = lowercaseMappings[s.value] { out.append(contentsOf: m) } else { out.append(s) }
    }

    private static func parseMapping(_ text: String) -> [UInt32: [Unicode.Scalar]] {
        var result: [UInt32: [Unicode.Scalar]] = [:]
        for rawEntry in text.split(separator: ";") {
            let entry = rawEntry.drop(while: { $0.isWhitespace })
            if entry.isEmpty { continue }
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let key = UInt32(parts[0], radix: 16) else {
                preconditionFailure("malformed Unicode table entry \(entry)")
            }
            result[key] = parts[1].split(separator: " ").map { Unicode.Scalar(UInt32($0, radix: 16)!)! }
        }
        return result
    }
}
