/// Decoding settings, with Hugging Face `generate()` semantics.
///
/// `maxLength` and `minLength` count the whole sequence: [DEC], the prompt and the generated
/// tokens (HF's convention, which BLIP's code also follows).
public struct GenerationConfig: Sendable, Equatable {
    public enum Strategy: Sendable, Equatable {
        case greedy
        case beam(width: Int)
        case sample(topP: Float, topK: Int, temperature: Float)
    }
    public var strategy: Strategy = .beam(width: 3)
    public var maxLength = 20
    public var minLength = 5
    public var repetitionPenalty: Float = 1.0
    /// Captions returned per image (beam: the best n finished beams; sampling: n independent samples).
    public var numReturnSequences = 1
    public var seed: UInt64 = 0
    public var bosTokenID = 30522
    public var eosTokenID = 102
    public var padTokenID = 0

    public init() {}

    /// BLIP's CapFilt captioner: nucleus sampling p 0.9, max 30, min 10, repetition penalty 1.1.
    public static var capfiltSampling: GenerationConfig {
        var c = GenerationConfig()
        c.strategy = .sample(topP: 0.9, topK: 0, temperature: 1)
        c.maxLength = 30; c.minLength = 10; c.repetitionPenalty = 1.1
        return c
    }
}

/// One generated caption: the ids exactly as `generate()` returns them (bos and prompt included,
/// trailing padding removed) and, for beam search, the length-normalised score.
public struct GeneratedSequence: Sendable, Equatable {
    public var tokenIDs: [Int]
    public var score: Float?
    public init(tokenIDs: [Int], score: Float?) { self.tokenIDs = tokenIDs; self.score = score }
}
