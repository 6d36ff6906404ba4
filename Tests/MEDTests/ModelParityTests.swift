import Foundation
import XCTest
@testable import MED
import Tensor

/// Hidden states, logits and scores of the tiny random BLIP models against transformers
/// (fixtures from scripts/make_med_fixtures.py); every comparison within 1e-4 max abs diff.
final class ModelParityTests: XCTestCase {
    let sources = ["random", "jpeg"]

    func testVisionEncoderBothModels() {
        for source in sources {
            let px = MEDFixtures.pixels(source)
            assertMatches(MEDFixtures.captioner.encodeImages(px), MEDFixtures.expectedCaptioner,
                          "vision_last_hidden_state_\(source)")
            assertMatches(MEDFixtures.retrieval.encodeImages(px), MEDFixtures.expectedITM,
                          "vision_last_hidden_state_\(source)")
        }
    }

    func testDecoderHiddenStatesAndLogits() {
        let m = MEDFixtures.captioner
        let (ids, n) = MEDFixtures.ids("decoder_input_ids")
        for source in sources {
            let states = m.encodeImages(MEDFixtures.pixels(source))
            let hidden = m.decoderHidden(ids: ids, sequences: n, keyValid: MEDFixtures.keyValid, imageStates: states)
            assertMatches(hidden, MEDFixtures.expectedCaptioner, "decoder_hidden_states_\(source)")

            let t = hidden.dim(1), d = hidden.dim(2)
            let logits = m.lmHead.logits(Tensor(shape: [n * t, d], values: hidden.toArray()))
            let v = logits.dim(1)
            // Tail of the vocabulary ([30000, V)), the logsumexp over all of it, and the argmax.
            let tail = Tensor(shape: [n, t, v - 30000])
            var lse = [Float]()
            for r in 0..<(n * t) {
                let row = logits.data + r * v
                for j in 30000..<v { tail[flat: r * (v - 30000) + j - 30000] = row[j] }
                var mx = -Float.infinity, best = 0
                for j in 0..<v where row[j] > mx { mx = row[j]; best = j }
                var s: Double = 0
                for j in 0..<v { s += Foundation.exp(Double(row[j] - mx)) }
                lse.append(mx + Float(Foundation.log(s))); _ = best
            }
            assertMatches(tail, MEDFixtures.expectedCaptioner, "logits_tail_\(source)")
            assertMatches(Tensor(shape: [n, t], values: lse), MEDFixtures.expectedCaptioner, "logits_logsumexp_\(source)")
            if source == "random" {
                let head = Tensor(shape: [n, t, 2048])
                for r in 0..<(n * t) { for j in 0..<2048 { head[flat: r * 2048 + j] = logits[flat: r * v + j] } }
                assertMatches(head, MEDFixtures.expectedCaptioner, "logits_head_random")
            }
        }
    }

    func testTextEncoderModes() {
        let m = MEDFixtures.retrieval
        let (ids, n) = MEDFixtures.ids()
        let valid = MEDFixtures.keyValid
        for source in sources {
            let states = m.encodeImages(MEDFixtures.pixels(source))
            let text = m.textHidden(ids: ids, sequences: n, keyValid: valid)
            assertMatches(text, MEDFixtures.expectedITM, "text_hidden_states_\(source)")
            for first in ITMFirstToken.allCases {
                let grounded = m.groundedHidden(ids: ids, sequences: n, keyValid: valid, imageStates: states, firstToken: first)
                assertMatches(grounded, MEDFixtures.expectedITM, "grounded_hidden_states_\(first.rawValue)_\(source)")
                let logits = m.itmLogits(groundedHidden: grounded)
                assertMatches(logits, MEDFixtures.expectedITM, "itm_logits_\(first.rawValue)_\(source)")
                assertMatches(Tensor(shape: [n], values: matchProbabilities(logits)), MEDFixtures.expectedITM,
                              "itm_prob_\(first.rawValue)_\(source)")
            }
            let imageFeatures = m.imageFeatures(imageStates: states)
            let textFeatures = m.textFeatures(textHidden: text)
            assertMatches(imageFeatures, MEDFixtures.expectedITM, "itc_image_feat_\(source)")
            assertMatches(textFeatures, MEDFixtures.expectedITM, "itc_text_feat_\(source)")
            let p = imageFeatures.dim(1)
            let cosine = Tensor(shape: [n, n])
            for i in 0..<n { for j in 0..<n {
                var s: Float = 0
                for k in 0..<p { s += imageFeatures[flat: i * p + k] * textFeatures[flat: j * p + k] }
                cosine[flat: i * n + j] = s
            } }
            assertMatches(cosine, MEDFixtures.expectedITM, "itc_cosine_matrix_\(source)")
        }
    }

    /// Every image against every text through the per-sequence image index (the score command's path).
    func testITMMatrixThroughImageIndex() {
        let m = MEDFixtures.retrieval
        let (ids, n) = MEDFixtures.ids()
        let valid = MEDFixtures.keyValid
        let t = ids.count / n
        for source in sources {
            let states = m.encodeImages(MEDFixtures.pixels(source))
            // Sequence (i, j) = image i with text j.
            var allIDs: [Int] = [], allValid: [Float] = [], index: [Int] = []
            for i in 0..<n { for j in 0..<n {
                allIDs += ids[j * t..<(j + 1) * t]; allValid += valid[j * t..<(j + 1) * t]; index.append(i)
            } }
            let grounded = m.groundedHidden(ids: allIDs, sequences: n * n, keyValid: allValid, imageStates: states,
                                            imageIndex: index, firstToken: .cls)
            assertMatches(m.itmLogits(groundedHidden: grounded), MEDFixtures.expectedITM, "itm_logits_matrix_cls_\(source)")
        }
    }
}
