/// Checks a caption against known facts of its image: for each fact, the caption must say one of
/// the phrases that state it (when any are given) and none of the phrases that contradict it.
/// A fact about a red object is `accept: ["red"], reject: ["blue", "green", ...]`; "a small red
/// circle" holds it, "a red and blue circle" does not. This is how a caption is judged true or
/// false when the images' content is known (generated scenes, or detector labels a team trusts),
/// independently of any model's score.
///
/// Phrases match whole words of the normalised caption (lowercase, every run of characters other
/// than letters and digits a single space), so "red" never matches inside "centred".
public struct CaptionFact: Sendable, Equatable {
    /// Phrases that state the fact; empty when the fact may be left unsaid.
    public var accept: [String]
    /// Phrases that contradict it.
    public var reject: [String]

    public init(accept: [String], reject: [String]) {
        self.accept = accept
        self.reject = reject
    }
}

public enum CaptionFacts {
    /// Whether `caption` states every fact it must and contradicts none.
    public static func holds(_ facts: [CaptionFact], caption: String) -> Bool {
        let text = " " + normalise(caption) + " "
        for fact in facts {
            if fact.reject.contains(where: { text.contains(" " + normalise($0) + " ") }) { return false }
            if !fact.accept.isEmpty, !fact.accept.contains(where: { text.contains(" " + normalise($0) + " ") }) { return false }
        }
        return true
    }

    /// Lowercase words separated by single spaces.
    static func normalise(_ text: String) -> String {
        var words: [String] = []
        var word = ""
        for c in text.lowercased() {
            if c.isLetter || c.isNumber {
                word.append(c)
            } else if !word.isEmpty {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        return words.joined(separator: " ")
    }
}
