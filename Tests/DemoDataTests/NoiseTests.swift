import XCTest
@testable import DemoData

final class NoiseTests: XCTestCase {
    /// Exact counts per kind (share x rows, rounded), at least 30% noise, and the labels file
    /// agrees with the manifest row by row.
    func testSharesAndLabelsFile() throws {
        var options = smallOptions
        options.webImages = 200
        options.humanImages = 0
        options.testImages = 0
        options.humanValidationImages = 0
        try withWrittenDataset("noise", options: options) { dataset, layout in
            let kinds = dataset.web.map(\.kind)
            XCTAssertEqual(kinds.filter { $0 == .swapped }.count, 30)
            XCTAssertEqual(kinds.filter { $0 == .junk }.count, 20)
            XCTAssertEqual(kinds.filter { $0 == .wrongAttribute }.count, 30)
            XCTAssertGreaterThanOrEqual(Double(kinds.filter { $0 != .clean }.count) / 200, 0.3)

            let labels = try XCTUnwrap(readJSON(layout.noiseLabels) as? [[String: Any]])
            let tsv = try String(contentsOfFile: layout.webManifest, encoding: .utf8).split(separator: "\n")
            // 200 rows, then 4 planted semantic duplicates (clean rows, SemanticDuplicatePlantingTests).
            XCTAssertEqual(labels.count, 204)
            XCTAssertEqual(tsv.count, 204)
            var counted: [String: Int] = [:]
            for (i, label) in labels.enumerated() {
                let kind = try XCTUnwrap(label["kind"] as? String)
                counted[kind, default: 0] += 1
                XCTAssertEqual(label["key"] as? String, String(i))
                let alt = try XCTUnwrap(label["alt_text"] as? String)
                let truth = try XCTUnwrap(label["true_caption"] as? String)
                XCTAssertEqual(String(tsv[i].split(separator: "\t")[0]), alt)
                XCTAssertEqual(kind, dataset.web[i].kind.rawValue)
                XCTAssertEqual(truth, dataset.web[i].trueCaption)
                switch kind {
                case "clean": XCTAssertEqual(alt, truth)
                case "junk":
                    XCTAssertNotEqual(alt, truth)
                    let words = Set(alt.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
                    XCTAssertTrue(words.isDisjoint(with: SceneAttributes.Colour.allCases.map(\.rawValue)), alt)
                case "wrong_attribute":
                    let changed = try XCTUnwrap(label["changed"] as? String)
                    // One object per standard scene: its size changes instead of the count.
                    XCTAssertTrue(["colour", "shape", "size"].contains(changed))
                    XCTAssertNotEqual(alt, truth)
                    // Same wording, one attribute different: the texts differ in one or two words.
                    let a = alt.split(separator: " "), t = truth.split(separator: " ")
                    XCTAssertEqual(a.count, t.count, "\(alt) / \(truth)")
                    XCTAssertLessThanOrEqual(zip(a, t).filter { $0 != $1 }.count, 2, "\(alt) / \(truth)")
                case "swapped":
                    XCTAssertNotEqual(alt, truth)
                    let j = try XCTUnwrap(label["swapped_with"] as? Int)
                    XCTAssertNotEqual(dataset.web[j].scene, dataset.web[i].scene)
                default: XCTFail("unknown kind \(kind)")
                }
            }
            XCTAssertEqual(counted, ["clean": 124, "swapped": 30, "junk": 20, "wrong_attribute": 30])
        }
    }

    func testCustomShares() {
        var options = smallOptions
        options.webImages = 100
        options.noise = NoiseShares(swapped: 0.2, junk: 0.2, wrongAttribute: 0.1)
        let kinds = DemoDataset(options: options).web.prefix(100).map(\.kind)
        XCTAssertEqual(kinds.filter { $0 == .clean }.count, 50)
        XCTAssertEqual(kinds.filter { $0 == .junk }.count, 20)
    }

    /// One web row still gets a real swapped caption (a made-up other scene).
    func testTinySplit() {
        var options = smallOptions
        options.webImages = 1
        options.noise = NoiseShares(swapped: 1, junk: 0, wrongAttribute: 0)
        let row = DemoDataset(options: options).web[0]
        XCTAssertEqual(row.kind, .swapped)
        XCTAssertNotEqual(row.altText, row.trueCaption)
    }
}
