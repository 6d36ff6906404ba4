/// What a scene shows: `count` objects of one shape, colour, size and texture, grouped at one
/// place on a plain background. Object colours and background colours are disjoint word sets,
/// so a caption's colour words are never ambiguous.
public struct SceneAttributes: Sendable, Hashable {
    public enum Shape: String, Sendable, CaseIterable { case circle, square, triangle, diamond, cross }
    public enum Colour: String, Sendable, CaseIterable { case red, orange, yellow, green, blue, purple, pink, white }
    public enum Background: String, Sendable, CaseIterable { case black, gray, brown, navy }
    public enum Size: String, Sendable, CaseIterable { case small, large }
    public enum Position: String, Sendable, CaseIterable { case left, right, top, bottom, centre }
    public enum Texture: String, Sendable, CaseIterable { case plain, striped, dotted }

    public var shape: Shape
    public var colour: Colour
    /// 1...3
    public var count: Int
    public var size: Size
    public var position: Position
    public var texture: Texture
    public var background: Background

    public init(shape: Shape, colour: Colour, count: Int, size: Size, position: Position, texture: Texture, background: Background) {
        precondition((1...3).contains(count), "1 to 3 objects")
        self.shape = shape
        self.colour = colour
        self.count = count
        self.size = size
        self.position = position
        self.texture = texture
        self.background = background
    }

    /// A uniformly drawn scene with the variety's attributes (one plain object when simple).
    public static func random(_ rng: inout DemoRandom, variety: SceneVariety) -> SceneAttributes {
        SceneAttributes(
            shape: rng.pick(Shape.allCases), colour: rng.pick(Colour.allCases), count: rng.int(in: 1...variety.maxObjects),
            size: rng.pick(Size.allCases), position: rng.pick(Position.allCases),
            texture: variety.textures ? rng.pick(Texture.allCases) : .plain, background: rng.pick(Background.allCases))
    }
}

/// Which attributes vary between scenes. `standard` (the demo's) has one plain object per scene:
/// five attributes, 1,600 scenes. `rich` adds counts (1 to 3) and textures: seven attributes,
/// 14,400 scenes, which a 2-layer, 64-wide BLIP does not learn to tell apart in the demo's
/// budget (docs/demo-results.md).
public struct SceneVariety: Sendable, Equatable {
    /// 1...3 objects.
    public var maxObjects: Int
    public var textures: Bool

    public init(maxObjects: Int, textures: Bool) {
        precondition((1...3).contains(maxObjects), "1 to 3 objects")
        self.maxObjects = maxObjects
        self.textures = textures
    }

    public static let standard = SceneVariety(maxObjects: 1, textures: false)
    public static let rich = SceneVariety(maxObjects: 3, textures: true)

    /// Number of distinct scenes.
    public var combinations: Int {
        SceneAttributes.Shape.allCases.count * SceneAttributes.Colour.allCases.count * maxObjects
            * SceneAttributes.Size.allCases.count * SceneAttributes.Position.allCases.count
            * (textures ? SceneAttributes.Texture.allCases.count : 1) * SceneAttributes.Background.allCases.count
    }
}
