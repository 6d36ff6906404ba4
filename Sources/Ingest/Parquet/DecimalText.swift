/// DECIMAL values as exact decimal text: the unscaled integer with the point placed `scale`
/// digits from the right, always `scale` fraction digits ("123.45", "-0.05", "7.00"). Text, not
/// a JSON number, because a Double cannot hold 38 significant digits.
enum DecimalText {
    /// Longest unscaled value read: a 1024-byte integer has ~2466 digits, far past any precision
    /// a writer uses (decimal256 is 32 bytes); longer ones are not decimals worth a quadratic loop.
    static let maxBytes = 1024

    static func text(unscaled: Int64, scale: Int) -> String? {
        place(digits: Array(String(unscaled.magnitude).utf8), negative: unscaled < 0, scale: scale)
    }

    /// A big-endian two's complement integer (FIXED_LEN_BYTE_ARRAY and BYTE_ARRAY decimals).
    static func text(bigEndian bytes: ArraySlice<UInt8>, scale: Int) -> String? {
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return nil }
        let negative = bytes[bytes.startIndex] & 0x80 != 0
        var magnitude = Array(bytes)
        if negative {   // two's complement: invert and add one
            for i in magnitude.indices { magnitude[i] = ~magnitude[i] }
            var i = magnitude.count - 1
            while i >= 0 {
                magnitude[i] &+= 1
                if magnitude[i] != 0 { break }
                i -= 1
            }
        }
        // Base 2^32 words, most significant first, divided by 10^9 until nothing is left.
        var words: [UInt32] = []
        let pad = (4 - magnitude.count % 4) % 4
        let padded = [UInt8](repeating: 0, count: pad) + magnitude
        for w in stride(from: 0, to: padded.count, by: 4) {
            words.append(UInt32(padded[w]) << 24 | UInt32(padded[w + 1]) << 16 | UInt32(padded[w + 2]) << 8 | UInt32(padded[w + 3]))
        }
        var chunks: [UInt32] = []   // base 10^9 digits, least significant first
        while let first = words.firstIndex(where: { $0 != 0 }) {
            words.removeFirst(first)
            var remainder: UInt64 = 0
            for i in words.indices {
                let current = remainder << 32 | UInt64(words[i])
                words[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
        }
        var digits = Array(String(chunks.last ?? 0).utf8)
        for chunk in chunks.dropLast().reversed() {
            let s = Array(String(chunk).utf8)
            digits += [UInt8](repeating: UInt8(ascii: "0"), count: 9 - s.count) + s
        }
        return place(digits: digits, negative: negative, scale: scale)
    }

    /// Places the point; nil for a scale outside what the format allows (0 up to 2^31).
    private static func place(digits: [UInt8], negative: Bool, scale: Int) -> String? {
        guard scale >= 0, scale <= 10_000 else { return nil }
        var d = digits
        if d.count <= scale { d = [UInt8](repeating: UInt8(ascii: "0"), count: scale + 1 - d.count) + d }
        if scale > 0 { d.insert(UInt8(ascii: "."), at: d.count - scale) }
        let zero = digits.allSatisfy { $0 == UInt8(ascii: "0") }
        return (negative && !zero ? "-" : "") + String(decoding: d, as: UTF8.self)
    }
}
