import Imaging
import XCTest
@testable import DemoData

final class DeterminismTests: XCTestCase {
    /// Two runs with one seed write byte-identical folders.
    func testSameSeedSameBytes() throws {
        let a = temporaryFolder("a"), b = temporaryFolder("b")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        try DemoDataWriter.write(DemoDataset(options: smallOptions), to: a)
        try DemoDataWriter.write(DemoDataset(options: smallOptions), to: b)
        let files = filesUnder(a)
        XCTAssertEqual(files, filesUnder(b))
        XCTAssertEqual(files.filter { $0.hasSuffix(".jpg") }.count, 6 + 3 + 40 + 12 + 30 + 20)
        for file in files {
            XCTAssertEqual(readBytes(a + "/" + file), readBytes(b + "/" + file), file)
        }
    }

    /// The pixels and texts of a small set, pinned: they must not change on another machine,
    /// compiler or libm. (The JPEG bytes depend on libjpeg's version, so they are compared run
    /// to run above, not pinned.)
    func testPinnedDigest() {
        XCTAssertEqual(digest(smallOptions), "aaffc2e3ebce80da")
        // Rich scenes draw from the random streams exactly as the first generator did, so they
        // reproduce its data bit for bit.
        var rich = smallOptions
        rich.variety = .rich
        XCTAssertEqual(digest(rich), "6a8dad2998508168")
    }

    private func digest(_ options: DemoDataOptions) -> String {
        let dataset = DemoDataset(options: options)
        var digest = FNV1a()
        for split in DemoDataset.Split.allCases {
            let count: Int
            switch split {
            case .human: count = dataset.human.count
            case .validation: count = dataset.validation.count
            case .web: count = dataset.web.count
            case .test: count = dataset.test.count
            }
            for i in 0..<count { digest.add(DemoDataWriter.image(dataset, split, i).pixels) }
            digest.add(DemoDataWriter.attributesJSONL(dataset, split))
        }
        digest.add(DemoDataWriter.webTSV(dataset, port: 8377))
        digest.add(DemoDataWriter.noiseLabelsJSON(dataset))
        digest.add(DemoDataWriter.karpathyJSON(dataset.test, options: options))
        digest.add(DemoDataWriter.cocoJSON(dataset.human, ids: DemoDataWriter.humanImageID, options: options, year: 2017, split: "train"))
        return String(digest.value, radix: 16)
    }

    func testOtherSeedOtherData() {
        var other = smallOptions
        other.seed = 8
        let a = DemoDataset(options: smallOptions), b = DemoDataset(options: other)
        XCTAssertNotEqual(a.human.map(\.captions), b.human.map(\.captions))
        XCTAssertNotEqual(DemoDataWriter.image(a, .web, 0).pixels, DemoDataWriter.image(b, .web, 0).pixels)
    }

    /// An image depends on its own index only, not on the sizes of other splits.
    func testImagesIndependentOfOtherSplits() {
        var bigger = smallOptions
        bigger.webImages = 55
        bigger.humanImages = 9
        let a = DemoDataset(options: smallOptions), b = DemoDataset(options: bigger)
        XCTAssertEqual(a.human.map(\.captions), Array(b.human.prefix(6)).map(\.captions))
        XCTAssertEqual(a.test.map(\.captions), b.test.map(\.captions))
        XCTAssertEqual(DemoDataWriter.image(a, .web, 3), DemoDataWriter.image(b, .web, 3))
        XCTAssertEqual(a.web.map(\.scene), Array(b.web.prefix(40)).map(\.scene))
    }

    func testRandomStreamsArePinned() {
        var rng = DemoRandom(seed: 1)
        XCTAssertEqual([rng.next(), rng.next()], [0x910a_2dec_8902_5cc1, 0xbeeb_8da1_658e_ec67])
        var stream = DemoRandom(seed: 2022, stream: 3, index: 5)
        let draws = (0..<1000).map { _ in stream.below(6) }
        XCTAssertEqual(Set(draws), Set(0..<6))
    }
}
