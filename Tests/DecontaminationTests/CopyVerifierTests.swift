import DemoData
import Imaging
import Tensor
import XCTest

@testable import Decontamination

/// Residual matching on the demo's own renders: every kind of planted copy of a test image is
/// found, and a look-alike (the same scene drawn again, its hash often 0 bits away) is not.
final class CopyVerifierTests: XCTestCase {
    /// Scenes of every background and size; `variant` draws them again with other grain and jitter.
    private func scene(_ i: Int) -> SceneAttributes {
        SceneAttributes(shape: SceneAttributes.Shape.allCases[i % 5], colour: SceneAttributes.Colour.allCases[i % 8], count: 1,
                        size: i % 2 == 0 ? .small : .large, position: SceneAttributes.Position.allCases[i % 5],
                        texture: .plain, background: SceneAttributes.Background.allCases[i % 4])
    }

    private func render(_ i: Int, variant: UInt64) throws -> RGBImage {
        var rng = DemoRandom(seed: 7, stream: variant, index: UInt64(i))
        return try reencode(SceneRenderer.render(scene(i), size: 64, rng: &rng), quality: 90)
    }

    private func reencode(_ image: RGBImage, quality: Int) throws -> RGBImage {
        try ImageDecoder.decode(try ImageEncoder.jpeg(image, quality: quality))
    }

    /// The demo's edits (ContaminationPlanting), each at the lowest JPEG quality it uses.
    private let edits: [PlantedCopy.Edit] = [
        .none, .cropped(pixels: 1), .cropped(pixels: 2), .rescaled(side: 56), .rescaled(side: 72), .brightened(delta: 16), .brightened(delta: -16),
    ]

    private func copy(_ image: RGBImage, _ edit: PlantedCopy.Edit) throws -> RGBImage {
        try reencode(PlantedCopy(webIndex: 0, testIndex: 0, edit: edit, jpegQuality: 60).apply(to: image), quality: 60)
    }

    func testCopiesCorrelateAndLookAlikesDoNot() throws {
        for i in 0..<8 {
            let original = try render(i, variant: 1)
            let signature = CopySignature(original)
            XCTAssertEqual(signature.correlation(with: signature), 1, accuracy: 1e-4)
            for edit in edits {
                let c = CopySignature(try copy(original, edit)).correlation(with: signature)
                XCTAssertGreaterThan(c, 0.2, "scene \(i), \(edit.description)")
            }
            for variant: UInt64 in 2...4 {
                let lookAlike = CopySignature(try render(i, variant: variant))
                XCTAssertLessThan(lookAlike.correlation(with: signature), 0.15, "scene \(i), drawn again (\(variant))")
            }
        }
    }

    func testVerifierFindsEveryCopyAndNothingElse() throws {
        setEngineThreads(2)
        let count = 12
        let evaluation = try (0..<count).map { try render($0, variant: 1) }
        let verifier = CopyVerifier(images: (0..<count).map { ("test", "images/\($0).jpg") }, signatures: evaluation.map(CopySignature.init),
                                    threshold: 0.2, candidates: 4)
        var training: [CopySignature?] = []
        var truth: [String?] = []
        for i in 0..<count {
            training.append(CopySignature(try copy(evaluation[i], edits[i % edits.count])))
            truth.append("images/\(i).jpg")
            training.append(CopySignature(try render(i, variant: 2)))
            truth.append(nil)
        }
        training.append(nil)
        truth.append(nil)
        let matches = verifier.match(training)
        XCTAssertEqual(matches.map { $0?.evalImage }, truth)
        for match in matches.compactMap({ $0 }) {
            XCTAssertEqual(match.method, .residual)
            XCTAssertGreaterThanOrEqual(match.distance, 0.2)
            XCTAssertTrue(match.reason.hasPrefix("residual correlation 0."), match.reason)
        }
    }

    func testAFlatImageMatchesNothing() {
        let grey = RGBImage(width: 32, height: 32, pixels: [UInt8](repeating: 128, count: 32 * 32 * 3))
        let signature = CopySignature(grey)
        XCTAssertEqual(signature.correlation(with: signature), -1)
        XCTAssertTrue(signature.thumbnail.allSatisfy { $0 == 0 })
    }
}
