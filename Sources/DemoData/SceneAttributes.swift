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

    /// Number of distinct scenes.
    public static let combinations =
        Shape.allCases.count * Colour.allCases.count * 3 * Size.allCases.count * Position.allCases.count
        * Texture.allCases.count * Background.allCases.count

    /// A uniformly drawn scene.
    public static func random(_ rng: inout DemoRandom) -> SceneAttributes {
        SceneAttributes(
            shape: rng.pick(Shape.allCases), colour: rng.pick(Colour.allCases), count: rng.int(in: 1...3),
            size: rng.pick(Size.allCases), position: rng.pick(Position.allCases),
            texture: rng.pick(Texture.allCases), background: rng.pick(Background.allCases))
    }
}
