/// The wording choices of one caption, drawn once so that the same wording can describe a
/// different scene (a wrong-attribute or swapped web caption reads like a real one).
public struct CaptionStyle: Sendable, Hashable {
    /// Index into `CaptionWriter.templateCount` sentence templates.
    public var template: Int
    /// "one" instead of "a" for a single object.
    public var sayOne: Bool
    /// "little" / "big" instead of "small" / "large".
    public var sizeSynonym: Bool
    /// Whether a plain texture is said ("plain") or left implicit.
    public var sayPlain: Bool
    /// Which of three phrasings of the position.
    public var positionPhrase: Int
    /// A capital first letter and a final period, as in COCO's human captions.
    public var sentenceCase: Bool

    public init(template: Int, sayOne: Bool, sizeSynonym: Bool, sayPlain: Bool, positionPhrase: Int, sentenceCase: Bool) {
        self.template = template
        self.sayOne = sayOne
        self.sizeSynonym = sizeSynonym
        self.sayPlain = sayPlain
        self.positionPhrase = positionPhrase
        self.sentenceCase = sentenceCase
    }

    public static func random(_ rng: inout DemoRandom, template: Int? = nil, sentenceCase: Bool) -> CaptionStyle {
        CaptionStyle(
            template: template ?? rng.below(CaptionWriter.templateCount), sayOne: rng.chance(1, in: 4),
            sizeSynonym: rng.chance(1, in: 4), sayPlain: rng.chance(1, in: 2),
            positionPhrase: rng.below(3), sentenceCase: sentenceCase)
    }
}
