import Imaging

/// Draws a scene with integer arithmetic only, so pixels are identical on every machine.
/// Geometry is in eighths of a pixel; each pixel averages a 4x4 grid of samples (anti-aliased
/// edges); the background carries a little per-pixel grain from the image's random stream.
public enum SceneRenderer {
    public static func render(_ scene: SceneAttributes, size: Int, rng: inout DemoRandom) -> RGBImage {
        precondition(size >= 16, "images of at least 16 pixels")
        let bg = backgroundRGB(scene.background)
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        // Background with grain in -6...6 (the same for all channels: brightness noise).
        var background = [Int32](repeating: 0, count: size * size * 3)
        for p in 0..<(size * size) {
            let grain = Int32(rng.int(in: -6...6))
            for c in 0..<3 { background[p * 3 + c] = clamp(bg[c] + grain) }
        }
        let objects = layout(scene, size: size, rng: &rng)
        let base = objectRGB(scene.colour)
        let accent = accentRGB(base)
        let radius = objects.first?.radius ?? 0
        // Pixels each object may touch.
        var touched = [Bool](repeating: false, count: size * size)
        for o in objects {
            let x0 = max(0, (o.x - radius) / 8 - 1), x1 = min(size - 1, (o.x + radius) / 8 + 1)
            let y0 = max(0, (o.y - radius) / 8 - 1), y1 = min(size - 1, (o.y + radius) / 8 + 1)
            if x0 > x1 || y0 > y1 { continue }
            for y in y0...y1 { for x in x0...x1 { touched[y * size + x] = true } }
        }
        for y in 0..<size {
            for x in 0..<size {
                let p = y * size + x
                var sum: (Int32, Int32, Int32) = (0, 0, 0)
                if touched[p] {
                    for sy in 0..<4 {
                        for sx in 0..<4 {
                            let px = x * 8 + 1 + 2 * sx
                            let py = y * 8 + 1 + 2 * sy
                            var colour = (background[p * 3], background[p * 3 + 1], background[p * 3 + 2])
                            for o in objects where inside(scene.shape, dx: px - o.x, dy: py - o.y, r: radius) {
                                let marked = textured(scene.texture, dx: px - o.x, dy: py - o.y, size: size)
                                let c = marked ? accent : base
                                colour = (c[0], c[1], c[2])
                                break
                            }
                            sum.0 += colour.0; sum.1 += colour.1; sum.2 += colour.2
                        }
                    }
                    pixels[p * 3] = UInt8((sum.0 + 8) / 16)
                    pixels[p * 3 + 1] = UInt8((sum.1 + 8) / 16)
                    pixels[p * 3 + 2] = UInt8((sum.2 + 8) / 16)
                } else {
                    for c in 0..<3 { pixels[p * 3 + c] = UInt8(background[p * 3 + c]) }
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }

    struct Placed {
        let x: Int
        let y: Int
        let radius: Int
    }

    /// Object centres (eighths of a pixel): a column at the left or right, a row at the top,
    /// bottom or centre, spaced by a diameter plus a gap of 3/64 of the image. The group moves by
    /// up to 1/32 of the image and each object by up to 1/64 more, less than half the gap, so
    /// objects never touch.
    static func layout(_ scene: SceneAttributes, size: Int, rng: inout DemoRandom) -> [Placed] {
        let w = size * 8
        let radius = scene.size == .small ? size * 5 / 8 : size * 9 / 8
        let step = 2 * radius + size * 3 / 8
        let (ax, ay): (Int, Int)
        var vertical = false
        switch scene.position {
        case .left: (ax, ay) = (w / 5, w / 2); vertical = true
        case .right: (ax, ay) = (w - w / 5, w / 2); vertical = true
        case .top: (ax, ay) = (w / 2, w / 5)
        case .bottom: (ax, ay) = (w / 2, w - w / 5)
        case .centre: (ax, ay) = (w / 2, w / 2)
        }
        let groupJitter = size / 4  // 1/32 of the image
        let objectJitter = size / 8  // 1/64
        let gx = rng.int(in: -groupJitter...groupJitter)
        let gy = rng.int(in: -groupJitter...groupJitter)
        var placed: [Placed] = []
        for j in 0..<scene.count {
            let offset = (2 * j - (scene.count - 1)) * step / 2
            let x = (vertical ? ax : ax + offset) + gx + rng.int(in: -objectJitter...objectJitter)
            let y = (vertical ? ay + offset : ay) + gy + rng.int(in: -objectJitter...objectJitter)
            placed.append(Placed(x: x, y: y, radius: radius))
        }
        // Keep the whole group inside the image (shifted together, so the spacing stays).
        let margin = radius + 4
        let minX = placed.map(\.x).min()!, maxX = placed.map(\.x).max()!
        let minY = placed.map(\.y).min()!, maxY = placed.map(\.y).max()!
        let dx = minX < margin ? margin - minX : (maxX > w - margin ? (w - margin) - maxX : 0)
        let dy = minY < margin ? margin - minY : (maxY > w - margin ? (w - margin) - maxY : 0)
        return placed.map { Placed(x: $0.x + dx, y: $0.y + dy, radius: $0.radius) }
    }

    static func inside(_ shape: SceneAttributes.Shape, dx: Int, dy: Int, r: Int) -> Bool {
        let ax = abs(dx), ay = abs(dy)
        switch shape {
        case .circle: return dx * dx + dy * dy <= r * r
        case .square: return ax * 8 <= r * 7 && ay * 8 <= r * 7
        case .triangle: return dy >= -r && dy <= r * 3 / 4 && 2 * ax * 7 <= (dy + r) * 8
        case .diamond: return ax + ay <= r
        case .cross:
            let arm = r / 3
            return (ax <= arm && ay <= r) || (ay <= arm && ax <= r)
        }
    }

    /// Whether a sample falls on the texture's marks (relative to the object's centre).
    static func textured(_ texture: SceneAttributes.Texture, dx: Int, dy: Int, size: Int) -> Bool {
        let far = 64 * size  // keeps the operands of / and % positive
        switch texture {
        case .plain: return false
        case .striped:
            let band = max(8, size / 4)  // 2 px at 64
            return ((dx + dy + far) / band) % 2 == 1
        case .dotted:
            let pitch = max(24, size * 5 / 8)  // 5 px at 64
            let mx = (dx + far) % pitch - pitch / 2
            let my = (dy + far) % pitch - pitch / 2
            let rad = pitch * 3 / 10
            return mx * mx + my * my <= rad * rad
        }
    }

    static func objectRGB(_ c: SceneAttributes.Colour) -> [Int32] {
        switch c {
        case .red: return [220, 40, 40]
        case .orange: return [245, 140, 20]
        case .yellow: return [240, 220, 40]
        case .green: return [50, 170, 60]
        case .blue: return [50, 100, 235]
        case .purple: return [140, 60, 190]
        case .pink: return [245, 130, 190]
        case .white: return [240, 240, 240]
        }
    }

    static func backgroundRGB(_ c: SceneAttributes.Background) -> [Int32] {
        switch c {
        case .black: return [20, 20, 20]
        case .gray: return [125, 125, 125]
        case .brown: return [115, 75, 40]
        case .navy: return [25, 35, 95]
        }
    }

    /// The texture's mark colour: darker for bright colours, lighter for darker ones.
    static func accentRGB(_ c: [Int32]) -> [Int32] {
        c.reduce(0, +) > 360 ? c.map { $0 * 2 / 5 } : c.map { ($0 + 2 * 255) / 3 }
    }

    private static func clamp(_ v: Int32) -> Int32 { min(255, max(0, v)) }
}
