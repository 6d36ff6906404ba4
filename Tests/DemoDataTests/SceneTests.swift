import Imaging
import XCTest
@testable import DemoData

final class SceneTests: XCTestCase {
    private let colourWords = SceneAttributes.Colour.allCases.map(\.rawValue)
    private let backgroundWords = SceneAttributes.Background.allCases.map(\.rawValue)

    /// Standard scenes hold one plain object and never say "plain"; rich ones vary count and
    /// texture, and a wrong-attribute row changes the count there, never the size.
    func testVarieties() {
        let standard = DemoDataset(options: smallOptions)
        for image in standard.human + standard.validation + standard.test {
            XCTAssertEqual(image.scene.count, 1)
            XCTAssertEqual(image.scene.texture, .plain)
            for caption in image.captions { XCTAssertFalse(caption.lowercased().contains("plain"), caption) }
        }
        XCTAssertTrue(standard.web.allSatisfy { $0.scene.count == 1 && $0.changed != .count })
        var options = smallOptions
        options.variety = .rich
        options.webImages = 300
        let rich = DemoDataset(options: options)
        let scenes = (rich.human + rich.test).map(\.scene) + rich.web.map(\.scene)
        XCTAssertEqual(Set(scenes.map(\.count)), [1, 2, 3])
        XCTAssertEqual(Set(scenes.map(\.texture)).count, 3)
        XCTAssertTrue(rich.web.allSatisfy { $0.changed != .size })
        XCTAssertTrue(rich.web.contains { $0.changed == .count })
        XCTAssertEqual(SceneVariety.standard.combinations, 1600)
        XCTAssertEqual(SceneVariety.rich.combinations, 14400)
    }

    /// Every ground-truth caption names the scene's attributes and no other colour.
    func testCaptionsNameTheirScene() {
        let dataset = DemoDataset(options: smallOptions)
        for image in dataset.human + dataset.validation + dataset.test {
            XCTAssertEqual(image.captions.count, 5)
            XCTAssertEqual(Set(image.captions.map { $0.lowercased() }).count, 5, "five different captions")
            for caption in image.captions {
                let words = Set(caption.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
                let scene = image.scene
                XCTAssertTrue(words.contains(scene.colour.rawValue), caption)
                XCTAssertTrue(words.contains(scene.background.rawValue), caption)
                XCTAssertEqual(words.intersection(colourWords), [scene.colour.rawValue], caption)
                XCTAssertEqual(words.intersection(backgroundWords), [scene.background.rawValue], caption)
                let noun = CaptionWriter.noun(scene.shape, plural: scene.count > 1)
                XCTAssertTrue(words.contains(noun), caption)
                if scene.count == 2 { XCTAssertTrue(words.contains("two"), caption) }
                if scene.count == 3 { XCTAssertTrue(words.contains("three"), caption) }
                if scene.texture != .plain { XCTAssertTrue(words.contains(scene.texture.rawValue), caption) }
            }
        }
    }

    func testCaptionExamples() {
        let scene = SceneAttributes(shape: .circle, colour: .red, count: 2, size: .small, position: .left, texture: .plain, background: .navy)
        let style = CaptionStyle(template: 0, sayOne: false, sizeSynonym: false, sayPlain: false, positionPhrase: 0, sentenceCase: false)
        XCTAssertEqual(CaptionWriter.caption(scene, style: style), "two small red circles on the left of a navy background")
        var one = scene
        one.count = 1
        one.colour = .orange
        one.size = .large
        one.texture = .striped
        one.shape = .cross
        var s = style
        s.sizeSynonym = true
        s.template = 5
        s.sentenceCase = true
        XCTAssertEqual(CaptionWriter.caption(one, style: s), "There is a big striped orange cross on the left of a navy background.")
        one.count = 3
        XCTAssertEqual(CaptionWriter.caption(one, style: s), "There are three big striped orange crosses on the left of a navy background.")
        one.count = 1
        one.size = .small
        one.texture = .plain
        s.sizeSynonym = false
        s.template = 3
        s.sentenceCase = false
        XCTAssertEqual(CaptionWriter.caption(one, style: s), "a navy background with a small orange cross on the left")
    }

    /// Test scenes are all distinct, so each test caption has one right image.
    func testTestScenesAreDistinct() {
        var options = smallOptions
        options.testImages = 1000
        options.webImages = 0
        options.humanImages = 0
        let test = DemoDataset(options: options).test
        XCTAssertEqual(Set(test.map(\.scene)).count, 1000)
    }

    /// The drawn image shows the scene: the object colour where the group is, background elsewhere.
    func testRenderingPlacesObjects() {
        let scene = SceneAttributes(shape: .square, colour: .red, count: 1, size: .large, position: .left, texture: .plain, background: .gray)
        var rng = DemoRandom(seed: 3)
        let image = SceneRenderer.render(scene, size: 64, rng: &rng)
        let (r, g, _) = image[13, 32]
        XCTAssertGreaterThan(Int(r), 180)
        XCTAssertLessThan(Int(g), 80)
        let right = image[52, 32]
        XCTAssertLessThan(abs(Int(right.0) - 125), 8)
        XCTAssertLessThan(abs(Int(right.1) - 125), 8)
        // Three small objects on top, each separated by background.
        let row = SceneAttributes(shape: .circle, colour: .yellow, count: 3, size: .small, position: .top, texture: .plain, background: .black)
        var rng2 = DemoRandom(seed: 4)
        let top = SceneRenderer.render(row, size: 64, rng: &rng2)
        var runs = 0
        var inside = false
        for x in 0..<64 {
            let bright = top[x, 13].0 > 128
            if bright && !inside { runs += 1 }
            inside = bright
        }
        XCTAssertEqual(runs, 3)
    }

    /// JPEGs decode to the configured size and stay close to the rendered pixels.
    func testWrittenImagesDecode() throws {
        try withWrittenDataset("decode") { dataset, layout in
            for split in DemoDataset.Split.allCases {
                let decoded = try ImageDecoder.decode(contentsOf: DemoDataWriter.imagePath(dataset, split, 0, layout: layout))
                XCTAssertEqual(decoded.width, 32)
                XCTAssertEqual(decoded.height, 32)
                let original = DemoDataWriter.image(dataset, split, 0)
                let meanError = zip(decoded.pixels, original.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +) / original.pixels.count
                XCTAssertLessThan(meanError, 10)
            }
        }
    }
}
