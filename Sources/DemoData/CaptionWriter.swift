/// Ground-truth captions: every caption names all seven attributes (a plain texture may be left
/// implicit), in one of ten sentence templates with small wording variations, so a caption is
/// true of its scene and of no scene with different attributes.
public enum CaptionWriter {
    public static let templateCount = 10

    public static func caption(_ scene: SceneAttributes, style: CaptionStyle) -> String {
        let np = nounPhrase(scene, style: style)
        let pos = positionPhrase(scene.position, style.positionPhrase)
        let bg = scene.background.rawValue
        let be = scene.count == 1 ? "is" : "are"
        let text: String
        switch style.template % templateCount {
        case 0: text = "\(np) \(pos) of a \(bg) background"
        case 1: text = "\(np) \(pos) on a \(bg) background"
        case 2: text = "\(np) \(pos) against a \(bg) background"
        case 3: text = "a \(bg) background with \(np) \(pos)"
        case 4: text = "\(pos), \(np) on a \(bg) background"
        case 5: text = "there \(be) \(np) \(pos) of a \(bg) background"
        case 6: text = "\(np) placed \(pos) over a \(bg) background"
        case 7: text = "an image of \(np) \(pos) on a \(bg) background"
        case 8: text = "\(bg) background, \(np) \(pos)"
        default: text = "\(np) \(pos), the background is \(bg)"
        }
        guard style.sentenceCase, let first = text.first else { return text }
        return first.uppercased() + text.dropFirst() + "."
    }

    /// "two small striped red circles", "an orange diamond", "one big dotted white cross".
    static func nounPhrase(_ scene: SceneAttributes, style: CaptionStyle) -> String {
        var words: [String] = []
        words.append(sizeWords(scene.size)[style.sizeSynonym ? 1 : 0])
        if scene.texture != .plain || style.sayPlain { words.append(scene.texture.rawValue) }
        words.append(scene.colour.rawValue)
        words.append(noun(scene.shape, plural: scene.count > 1))
        let rest = words.joined(separator: " ")
        switch scene.count {
        case 1:
            if style.sayOne { return "one " + rest }
            return (startsWithVowel(rest) ? "an " : "a ") + rest
        case 2: return "two " + rest
        default: return "three " + rest
        }
    }

    static func noun(_ shape: SceneAttributes.Shape, plural: Bool) -> String {
        guard plural else { return shape.rawValue }
        return shape == .cross ? "crosses" : shape.rawValue + "s"
    }

    static func positionPhrase(_ position: SceneAttributes.Position, _ variant: Int) -> String {
        let phrases = positionPhrases(position)
        return phrases[variant % phrases.count]
    }

    /// Every way a caption says where the objects are.
    static func positionPhrases(_ position: SceneAttributes.Position) -> [String] {
        switch position {
        case .left: ["on the left", "on the left side", "at the left"]
        case .right: ["on the right", "on the right side", "at the right"]
        case .top: ["at the top", "near the top", "in the upper part"]
        case .bottom: ["at the bottom", "near the bottom", "in the lower part"]
        case .centre: ["in the centre", "in the middle", "in the center"]
        }
    }

    /// Every way a caption says the objects' size.
    static func sizeWords(_ size: SceneAttributes.Size) -> [String] {
        switch size {
        case .small: ["small", "little"]
        case .large: ["large", "big"]
        }
    }

    private static func startsWithVowel(_ s: String) -> Bool {
        guard let c = s.first else { return false }
        return "aeiou".contains(c)
    }
}
