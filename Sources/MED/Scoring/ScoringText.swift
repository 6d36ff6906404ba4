/// How a text is prepared before the retrieval model scores it: BLIP's `pre_caption` (lower
/// case, punctuation dropped, at most `maxWords` words) when `clean`, then at most `maxTokens`
/// tokens with [CLS] and [SEP]. The filter stage and `capfilt score` share these defaults, so
/// one pair gets one score whichever front door asked.
public struct ScoringText: Sendable, Equatable {
    public var clean: Bool
    public var maxWords: Int
    public var maxTokens: Int

    /// BLIP's settings for ITM filtering and retrieval (`max_words` 50, `max_length` 35).
    public static let blip = ScoringText(clean: true, maxWords: 50, maxTokens: 35)

    public init(clean: Bool, maxWords: Int, maxTokens: Int) {
        self.clean = clean; self.maxWords = maxWords; self.maxTokens = maxTokens
    }

    /// The token ids of `text`, truncated to `maxTokens` and the model's positions.
    public func encode(_ text: String, tokenizer: BertTokenizer, maxPositions: Int) -> [Int] {
        tokenizer.encode(clean ? preCaption(text, maxWords: maxWords) : text, maxLength: min(maxTokens, maxPositions))
    }
}
