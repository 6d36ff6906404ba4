import Evaluation
import XCTest
@testable import DemoData

/// The facts file judges captions the way the benchmark means them: every wording of a scene's
/// ground truth holds its facts, and the caption of a scene that differs in any one attribute
/// does not.
final class CaptionFactsTests: XCTestCase {
    func testEveryWordingHoldsAndEveryOneAttributeChangeFails() {
        for variety in [SceneVariety.standard, .rich] {
            var rng = DemoRandom(seed: 7)
            for _ in 0..<80 {
                let scene = SceneAttributes.random(&rng, variety: variety)
                let facts = Self.facts(scene, variety: variety)
                for template in 0..<CaptionWriter.templateCount {
                    var style = CaptionStyle.random(&rng, template: template, sentenceCase: rng.chance(1, in: 2))
                    style.sayPlain = style.sayPlain && variety.textures
                    let caption = CaptionWriter.caption(scene, style: style)
                    XCTAssertTrue(CaptionFacts.holds(facts, caption: caption), caption)
                    for other in Self.oneAttributeChanges(scene, variety: variety) {
                        let wrong = CaptionWriter.caption(other, style: style)
                        XCTAssertFalse(CaptionFacts.holds(facts, caption: wrong), "\(wrong) passes the facts of \(caption)")
                    }
                }
            }
        }
    }

    func testFactsFileHasOneLinePerWebRow() throws {
        var options = smallOptions
        options.webImages = 40
        try withWrittenDataset("facts", options: options) { dataset, layout in
            let lines = try String(contentsOfFile: layout.webFacts, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 40)
            for (row, line) in zip(dataset.web, lines) {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                XCTAssertEqual(object["key"] as? String, String(row.index))
                let facts = try XCTUnwrap(object["facts"] as? [[String: [String]]]).map {
                    CaptionFact(accept: $0["accept"] ?? [], reject: $0["reject"] ?? [])
                }
                XCTAssertTrue(CaptionFacts.holds(facts, caption: row.trueCaption), row.trueCaption)
                XCTAssertEqual(CaptionFacts.holds(facts, caption: row.altText), row.kind == .clean, "\(row.kind): \(row.altText)")
            }
        }
    }

    static func facts(_ scene: SceneAttributes, variety: SceneVariety) -> [CaptionFact] {
        CaptionFactsWriter.facts(scene, variety: variety).map { CaptionFact(accept: $0.accept, reject: $0.reject) }
    }

    static func oneAttributeChanges(_ s: SceneAttributes, variety: SceneVariety) -> [SceneAttributes] {
        var out: [SceneAttributes] = []
        func add(_ change: (inout SceneAttributes) -> Void) { var c = s; change(&c); out.append(c) }
        for v in SceneAttributes.Shape.allCases where v != s.shape { add { $0.shape = v } }
        for v in SceneAttributes.Colour.allCases where v != s.colour { add { $0.colour = v } }
        for v in SceneAttributes.Size.allCases where v != s.size { add { $0.size = v } }
        for v in SceneAttributes.Position.allCases where v != s.position { add { $0.position = v } }
        for v in SceneAttributes.Background.allCases where v != s.background { add { $0.background = v } }
        if variety.maxObjects > 1 { for v in 1...3 where v != s.count { add { $0.count = v } } }
        if variety.textures { for v in SceneAttributes.Texture.allCases where v != s.texture { add { $0.texture = v } } }
        return out
    }
}
