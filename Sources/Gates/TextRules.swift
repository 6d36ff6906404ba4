/// Bounds on a caption's length, in words (runs of non-whitespace) and characters (what a reader
/// counts: grapheme clusters, so `é` is one whichever way it is encoded). A bound left nil is no
/// rule; a bound holds inclusively (`min_words: 3` keeps a three-word caption).
public struct TextRules: Sendable, Equatable {
    public var minWords: Int?
    public var maxWords: Int?
    public var minChars: Int?
    public var maxChars: Int?

    public init(minWords: Int? = nil, maxWords: Int? = nil, minChars: Int? = nil, maxChars: Int? = nil) {
        self.minWords = minWords; self.maxWords = maxWords; self.minChars = minChars; self.maxChars = maxChars
    }

    public var isEmpty: Bool { minWords == nil && maxWords == nil && minChars == nil && maxChars == nil }

    /// The first rule `text` fails (words before characters), or nil when it passes them all.
    public func judge(_ text: String) -> GateDrop? {
        if minWords != nil || maxWords != nil {
            let words = Self.wordCount(text)
            if let minWords, words < minWords { return GateDrop(.minWords, "\(words) < \(minWords)") }
            if let maxWords, words > maxWords { return GateDrop(.maxWords, "\(words) > \(maxWords)") }
        }
        if minChars != nil || maxChars != nil {
            let chars = text.count
            if let minChars, chars < minChars { return GateDrop(.minChars, "\(chars) < \(minChars)") }
            if let maxChars, chars > maxChars { return GateDrop(.maxChars, "\(chars) > \(maxChars)") }
        }
        return nil
    }

    /// Runs of characters that are not Unicode whitespace.
    static func wordCount(_ text: String) -> Int {
        var words = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let space = scalar.properties.isWhitespace
            if !space, !inWord { words += 1 }
            inWord = !space
        }
        return words
    }
}
