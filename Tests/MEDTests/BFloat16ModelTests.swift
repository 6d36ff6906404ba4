import Foundation
import XCTest
@testable import MED
import Tensor

/// bf16 weights on the tiny parity models: what is stored as bf16, and how far the outputs move
/// from fp32. The ITM fixture is stored in BF16 (scripts/make_med_fixtures.py writes one
/// model per half format), so there bf16 must give fp32's results; the captioner is stored in F16,
/// so its weights really are rounded and the outputs move (printed, loosely bounded).
final class BFloat16ModelTests: XCTestCase {
    static let captioner = try! BlipCaptioningModel(folder: MEDFixtures.url("captioner"), precision: .bf16)
    static let retrieval = try! BlipRetrievalModel(folder: MEDFixtures.url("itm"), precision: .bf16)

    func testLinearWeightsAreStoredAsBFloat16() {
        let m = Self.captioner
        XCTAssertEqual(m.precision, .bf16)
        XCTAssertTrue(m.vision.layers[0].fc1.weight.isBFloat16)
        XCTAssertTrue(m.vision.layers[0].qkv.weight.isBFloat16)
        XCTAssertFalse(m.vision.layers[0].fc1.bias!.isBFloat16)
        XCTAssertFalse(m.vision.patchWeight.isBFloat16)
        XCTAssertTrue(m.lmHead.decoder.isBFloat16)
        XCTAssertTrue(Self.retrieval.itmHead.weight.isBFloat16)
        XCTAssertFalse(MEDFixtures.captioner.vision.layers[0].fc1.weight.isBFloat16)
    }

    /// Largest |bf16 − fp32| of the captioner's image states for one fixture image source.
    func visionDifference(_ source: String) -> Float {
        let px = MEDFixtures.pixels(source)
        let a = Self.captioner.encodeImages(px).toArray(), b = MEDFixtures.captioner.encodeImages(px).toArray()
        return zip(a, b).map { abs($0 - $1) }.max()!
    }

    /// ITM match probabilities of the fixture texts against one image source: (bf16, fp32).
    func matchProbabilitiesBothWays(_ source: String) -> (bf16: [Float], fp32: [Float]) {
        let (ids, n) = MEDFixtures.ids()
        let px = MEDFixtures.pixels(source)
        func probabilities(_ m: BlipRetrievalModel) -> [Float] {
            matchProbabilities(m.itmLogits(groundedHidden: m.groundedHidden(
                ids: ids, sequences: n, keyValid: MEDFixtures.keyValid, imageStates: m.encodeImages(px), firstToken: .cls)))
        }
        return (probabilities(Self.retrieval), probabilities(MEDFixtures.retrieval))
    }

    func testOutputsStayCloseToFloat32() {
        // Widened products: the bf16 weights widened to float32, the activations unrounded.
        BF16Products.override = .widened
        defer { BF16Products.override = nil }
        for source in ["random", "jpeg"] {
            let worst = visionDifference(source)
            print("bf16 vision \(source): max abs diff from fp32 \(worst)")
            XCTAssertLessThan(worst, 0.05)
        }
        var largest: Float = 0
        for source in ["random", "jpeg"] {
            let (p16, p32) = matchProbabilitiesBothWays(source)
            largest = max(largest, zip(p16, p32).map { abs($0 - $1) }.max()!)
        }
        print("bf16 ITM (a BF16 checkpoint): largest probability difference from fp32 \(largest)")
        XCTAssertLessThan(largest, 1e-5, "a BF16 checkpoint loses nothing in bf16")
    }

    /// The products an AVX512_BF16 CPU runs (activations rounded to bf16 too), through their
    /// emulation, which gives the same bits: how far they move the outputs from fp32.
    func testBF16ActivationProductsStayCloseToFloat32() {
        BF16Products.override = .emulated
        defer { BF16Products.override = nil }
        let vision = ["random", "jpeg"].map(visionDifference).max()!
        var largest: Float = 0, agree = 0, total = 0
        for source in ["random", "jpeg"] {
            let (p16, p32) = matchProbabilitiesBothWays(source)
            largest = max(largest, zip(p16, p32).map { abs($0 - $1) }.max()!)
            for (a, b) in zip(p16, p32) { total += 1; if (a >= 0.5) == (b >= 0.5) { agree += 1 } }
        }
        let (same, captions) = greedyCaptionsIdenticalToFloat32()
        print("bf16 products (activations rounded): vision max abs diff from fp32 \(vision); ITM largest probability difference \(largest), decisions at 0.5 agreeing \(agree) of \(total); greedy captions identical \(same) of \(captions)")
        XCTAssertGreaterThanOrEqual(same * 2, captions, "most greedy captions keep their tokens")
        XCTAssertLessThan(vision, 0.1)
        XCTAssertLessThan(largest, 0.02)
        XCTAssertGreaterThan(largest, 0, "the activations are rounded: the outputs move")
    }

    /// Greedy captions of the fixture images by the bf16 and the fp32 captioner: (identical, total).
    func greedyCaptionsIdenticalToFloat32() -> (Int, Int) {
        var same = 0, total = 0
        for source in ["random", "jpeg"] {
            let px = MEDFixtures.pixels(source)
            var config = GenerationConfig()
            config.strategy = .greedy
            config.maxLength = 12; config.minLength = 3
            let a = CaptionGenerator(model: Self.captioner).generate(imageStates: Self.captioner.encodeImages(px), prompt: [config.bosTokenID], config: config)
            let b = CaptionGenerator(model: MEDFixtures.captioner).generate(imageStates: MEDFixtures.captioner.encodeImages(px), prompt: [config.bosTokenID], config: config)
            for (x, y) in zip(a, b) { total += 1; if x.map(\.tokenIDs) == y.map(\.tokenIDs) { same += 1 } }
        }
        return (same, total)
    }

    func testGreedyCaptionsAgreeWithFloat32OnMostImages() {
        let (same, total) = greedyCaptionsIdenticalToFloat32()
        print("bf16 greedy captions identical to fp32: \(same) of \(total)")
        XCTAssertGreaterThan(total, 0)
        XCTAssertGreaterThanOrEqual(same * 2, total, "most greedy captions keep their tokens")
    }
}
