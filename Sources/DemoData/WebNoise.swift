/// The known noise of the web split's alt-text, one kind per row.
public enum NoiseKind: String, Sendable, CaseIterable {
    /// The alt-text is the true caption.
    case clean
    /// Another web image's caption (a scene with different attributes).
    case swapped
    /// Alt-text junk: file names, "click here", "image", ...
    case junk
    /// The true caption with one attribute changed: colour, shape, and count or size.
    case wrongAttribute = "wrong_attribute"
}

/// Shares of the web rows per noise kind (the rest are clean). The counts are the shares times
/// the rows, rounded; the rows are then shuffled, so every run has exactly these counts.
public struct NoiseShares: Sendable, Equatable {
    public var swapped: Double
    public var junk: Double
    public var wrongAttribute: Double

    public init(swapped: Double = 0.15, junk: Double = 0.10, wrongAttribute: Double = 0.15) {
        precondition(swapped >= 0 && junk >= 0 && wrongAttribute >= 0 && swapped + junk + wrongAttribute <= 1)
        self.swapped = swapped
        self.junk = junk
        self.wrongAttribute = wrongAttribute
    }

    public var total: Double { swapped + junk + wrongAttribute }

    /// Exactly `rows` kinds, in a shuffled order.
    func assign(rows: Int, rng: inout DemoRandom) -> [NoiseKind] {
        func count(_ share: Double) -> Int { Int((share * Double(rows)).rounded()) }
        var kinds: [NoiseKind] = []
        kinds += Array(repeating: .swapped, count: count(swapped))
        kinds += Array(repeating: .junk, count: count(junk))
        kinds += Array(repeating: .wrongAttribute, count: count(wrongAttribute))
        kinds = Array(kinds.prefix(rows))
        kinds += Array(repeating: .clean, count: rows - kinds.count)
        rng.shuffle(&kinds)
        return kinds
    }
}

/// The attribute a wrong-attribute row changed.
public enum ChangedAttribute: String, Sendable, CaseIterable {
    case colour, shape, count, size
}

enum WebNoise {
    /// One attribute replaced by a different value.
    /// The count when scenes have several objects, else the size.
    static func corrupt(_ scene: SceneAttributes, variety: SceneVariety, rng: inout DemoRandom) -> (SceneAttributes, ChangedAttribute) {
        var wrong = scene
        let what = rng.pick(variety.maxObjects > 1 ? [.colour, .shape, .count] : [ChangedAttribute.colour, .shape, .size])
        switch what {
        case .colour: wrong.colour = rng.pick(SceneAttributes.Colour.allCases.filter { $0 != scene.colour })
        case .shape: wrong.shape = rng.pick(SceneAttributes.Shape.allCases.filter { $0 != scene.shape })
        case .count: wrong.count = rng.pick(Array(1...variety.maxObjects).filter { $0 != scene.count })
        case .size: wrong.size = scene.size == .small ? .large : .small
        }
        return (wrong, what)
    }

    /// Alt-text that says nothing about the image, in the shapes real junk takes.
    static func junk(_ rng: inout DemoRandom) -> String {
        func digits(_ n: Int) -> String {
            var s = ""
            for _ in 0..<n { s.append(Character(String(rng.below(10)))) }
            return s
        }
        switch rng.below(14) {
        case 0: return "IMG_" + digits(4)
        case 1: return "IMG_" + digits(4) + ".JPG"
        case 2: return "DSC" + digits(5) + ".jpg"
        case 3: return "click here"
        case 4: return "click to enlarge"
        case 5: return "image"
        case 6: return "photo"
        case 7: return "untitled"
        case 8: return "thumbnail"
        case 9: return "view full size"
        case 10: return "stock photo " + digits(6)
        case 11: return "image \(rng.int(in: 1...9)) of \(rng.int(in: 10...20))"
        case 12: return "screenshot 20\(rng.int(in: 10...24))-0\(rng.int(in: 1...9))-\(rng.int(in: 10...28))"
        default: return "no description available"
        }
    }
}
