import Foundation
import XCTest
@testable import MED
import Tensor

/// Generated token ids identical to transformers' generate() for greedy, beam search, min length,
/// repetition penalty, the "a picture of" prompt, several returned beams and batched images.
final class GenerationParityTests: XCTestCase {
    func imagePixels(_ names: [String]) -> Tensor {
        let random = MEDFixtures.pixels("random"), jpeg = MEDFixtures.pixels("jpeg")
        let per = 3 * 32 * 32
        var values: [Float] = []
        for name in names {
            let source = name.hasPrefix("random") ? random : jpeg
            let i = Int(String(name.last!))!
            values += Array(source.toArray()[i * per..<(i + 1) * per])
        }
        return Tensor(shape: [names.count, 3, 32, 32], values: values)
    }

    func testAllGenerationCases() throws {
        let fixture = try MEDFixtures.json("generation.json")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertGreaterThan(cases.count, 30)
        let model = MEDFixtures.captioner
        let generator = CaptionGenerator(model: model)
        let tokenizer = try BertTokenizer.bundled()
        var checked = 0, endedEarly = 0
        for c in cases {
            let name = c["name"] as! String
            var config = GenerationConfig()
            let beams = c["num_beams"] as! Int
            if c["do_sample"] as! Bool {
                config.strategy = .sample(topP: 1, topK: c["top_k"] as! Int, temperature: 1)
            } else {
                config.strategy = beams == 1 ? .greedy : .beam(width: beams)
            }
            config.maxLength = c["max_length"] as! Int
            config.minLength = c["min_length"] as! Int
            config.repetitionPenalty = Float(c["repetition_penalty"] as! Double)
            config.numReturnSequences = c["num_return_sequences"] as! Int
            let prompt = CaptionGenerator.promptIDs(c["prompt"] as? String, tokenizer: tokenizer)
            XCTAssertEqual(prompt, c["decoder_input_ids"] as! [Int], "\(name): decoder prompt ids")

            let names = c["images"] as! [String]
            let states = model.encodeImages(imagePixels(names))
            let out = generator.generate(imageStates: states, prompt: prompt, config: config)
            let outputs = c["outputs"] as! [[String: Any]]
            for (b, expected) in outputs.enumerated() {
                let ids = expected["expected_ids"] as! [[Int]]
                XCTAssertEqual(out[b].map(\.tokenIDs), ids, "\(name) image \(b)")
                if let scores = expected["sequence_scores"] as? [Double] {
                    for (s, e) in zip(out[b], scores) { XCTAssertEqual(Double(s.score ?? .nan), e, accuracy: 1e-4, name) }
                }
                let texts = expected["expected_text"] as! [String]
                XCTAssertEqual(out[b].map { tokenizer.decode($0.tokenIDs) }, texts, "\(name) text")
                endedEarly += (expected["ended_early"] as! [Bool]).filter { $0 }.count
                checked += 1
            }
        }
        XCTAssertGreaterThan(endedEarly, 0, "fixtures should include captions that end before max_length")
        print("generation parity: \(checked) image cases checked")
    }
}
