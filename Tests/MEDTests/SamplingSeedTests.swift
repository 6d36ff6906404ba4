import XCTest
@testable import MED
import Tensor

/// Sampled captions depend on their image, its seed and the caption's index only: not on the
/// other images of the batch, the batch's size, or how many captions are drawn per image.
final class SamplingSeedTests: XCTestCase {
    private func nucleus(captions: Int) -> GenerationConfig {
        var config = GenerationConfig.capfiltSampling
        config.maxLength = 14; config.minLength = 4
        config.numReturnSequences = captions
        return config
    }

    /// Image states of the fixtures' 4 images ([random0, random1, jpeg0, jpeg1]) in the given order.
    private func states(_ order: [Int]) -> Tensor {
        let random = MEDFixtures.pixels("random").toArray(), jpeg = MEDFixtures.pixels("jpeg").toArray()
        let per = 3 * 32 * 32
        let all = [random[0..<per], random[per..<2 * per], jpeg[0..<per], jpeg[per..<2 * per]].map(Array.init)
        return MEDFixtures.captioner.encodeImages(Tensor(shape: [order.count, 3, 32, 32], values: order.flatMap { all[$0] }))
    }

    private let seeds: [UInt64] = [11, 22, 33, 44]

    func testABatchSamplesWhatEachImageSamplesAlone() {
        let generator = CaptionGenerator(model: MEDFixtures.captioner)
        let config = nucleus(captions: 3)
        let together = generator.generate(imageStates: states([0, 1, 2, 3]), prompt: [config.bosTokenID], config: config,
                                          imageSeeds: seeds)
        for i in 0..<4 {
            let alone = generator.generate(imageStates: states([i]), prompt: [config.bosTokenID], config: config,
                                           imageSeeds: [seeds[i]])
            XCTAssertEqual(alone[0].map(\.tokenIDs), together[i].map(\.tokenIDs), "image \(i)")
        }
        // Another order and another batch size: each image keeps its captions.
        let reversed = generator.generate(imageStates: states([3, 1]), prompt: [config.bosTokenID], config: config,
                                          imageSeeds: [seeds[3], seeds[1]])
        XCTAssertEqual(reversed[0].map(\.tokenIDs), together[3].map(\.tokenIDs))
        XCTAssertEqual(reversed[1].map(\.tokenIDs), together[1].map(\.tokenIDs))
        // Several captions per image are independent draws, not copies.
        let distinct = together.map { Set($0.map(\.tokenIDs)).count }
        XCTAssertGreaterThan(distinct.reduce(0, +), 4, "captions of one image differ: \(distinct)")
    }

    func testCaptionJDoesNotDependOnHowManyAreDrawn() {
        let generator = CaptionGenerator(model: MEDFixtures.captioner)
        let one = nucleus(captions: 1), four = nucleus(captions: 4)
        let a = generator.generate(imageStates: states([0, 2]), prompt: [one.bosTokenID], config: one, imageSeeds: [5, 6])
        let b = generator.generate(imageStates: states([0, 2]), prompt: [four.bosTokenID], config: four, imageSeeds: [5, 6])
        for i in 0..<2 { XCTAssertEqual(a[i][0].tokenIDs, b[i][0].tokenIDs, "image \(i): caption 0") }
    }

    func testSeedsChangeSampledCaptions() {
        let generator = CaptionGenerator(model: MEDFixtures.captioner)
        let config = nucleus(captions: 2)
        let a = generator.generate(imageStates: states([0, 1, 2, 3]), prompt: [config.bosTokenID], config: config, imageSeeds: [1, 2, 3, 4])
        let b = generator.generate(imageStates: states([0, 1, 2, 3]), prompt: [config.bosTokenID], config: config, imageSeeds: [5, 6, 7, 8])
        XCTAssertNotEqual(a.map { $0.map(\.tokenIDs) }, b.map { $0.map(\.tokenIDs) })
        // Without explicit seeds, image b of the batch is seeded from config.seed and b.
        var seeded = config
        seeded.seed = 9
        let implicit = generator.generate(imageStates: states([0, 1]), prompt: [config.bosTokenID], config: seeded)
        let explicit = generator.generate(imageStates: states([0, 1]), prompt: [config.bosTokenID], config: seeded,
                                          imageSeeds: [SeededGenerator.sequenceSeed(9, 0), SeededGenerator.sequenceSeed(9, 1)])
        XCTAssertEqual(implicit.map { $0.map(\.tokenIDs) }, explicit.map { $0.map(\.tokenIDs) })
    }
}
