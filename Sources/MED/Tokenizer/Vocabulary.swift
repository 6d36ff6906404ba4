/// A dictionary key that compares strings by their UTF-8 bytes. Swift's `String` equality is
/// canonical equivalence, under which a decomposed Hangul word would find a precomposed
/// vocabulary entry; the Rust WordPiece model compares bytes.
struct ExactStringKey: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ExactStringKey, b: ExactStringKey) -> Bool {
        var x = a.text, y = b.text
        return x.withUTF8 { p in y.withUTF8 { q in p.elementsEqual(q) } }
    }

    func hash(into hasher: inout Hasher) {
        var x = text
        x.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// Token strings and ids, as tokenizers' `WordPiece::read_file` builds them.
struct BertVocabulary: Sendable {
    private var tokens: [String]
    /// False for a line shadowed by a later duplicate: the Rust reverse map only holds the
    /// surviving id, so decoding drops the shadowed one.
    private var reachable: [Bool]
    private var ids: [ExactStringKey: Int]

    var count: Int { tokens.count }

    /// Parses vocab.txt: one token per line, id = line number; trailing whitespace trimmed
    /// (Rust `str::trim_end`); a duplicate line takes the id of its last occurrence.
    init(fileContents: String) {
        var lines: [String] = []
        var text = fileContents
        text.withUTF8 { buffer in
            var start = 0
            for i in 0..<buffer.count where buffer[i] == 0x0A {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<i]), as: UTF8.self))
                start = i + 1
            }
            if start < buffer.count {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self))
            }
        }
        tokens = lines.map(Self.trimmingTrailingWhitespace)
        ids = Dictionary(minimumCapacity: tokens.count)
        reachable = [Bool](repeating: true, count: tokens.count)
        for (i, t) in tokens.enumerated() {
            if let earlier = ids.updateValue(i, forKey: ExactStringKey(t)) { reachable[earlier] = false }
        }
    }

    func id(for token: String) -> Int? { ids[ExactStringKey(token)] }

    @inline(__always)
    func id(for key: ExactStringKey) -> Int? { ids[key] }

    /// The token of `id`, or nil when out of range or shadowed by a later duplicate line.
    func token(for id: Int) -> String? {
        guard id >= 0 && id < tokens.count && reachable[id] else { return nil }
        return tokens[id]
    }

    /// Adds `token` at the next id unless present; returns its id.
    @discardableResult
    mutating func add(_ token: String) -> Int {
        if let existing = id(for: token) { return existing }
        tokens.append(token)
        reachable.append(true)
        ids[ExactStringKey(token)] = tokens.count - 1
        return tokens.count - 1
    }

    private static func trimmingTrailingWhitespace(_ line: String) -> String {
        let scalars = line.unicodeScalars
        var end = scalars.endIndex
        while end > scalars.startIndex {
            let previous = scalars.index(before: end)
            guard BertCharacterClasses.shared.flags(scalars[previous].value).contains(.whitespace) else { break }
            end = previous
        }
        return end == scalars.endIndex ? line : String(scalars[..<end])
    }
}
