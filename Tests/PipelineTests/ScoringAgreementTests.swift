import Catalog
import Foundation
import Imaging
import TestFixtures
import XCTest

/// `capfilt score` and the filter stage are two front doors over one scorer: the same pair gets
/// the same ITM probability from both, text cleaning (BLIP's pre_caption) included.
final class ScoringAgreementTests: XCTestCase {
    func testScoreCommandAndFilterStageGiveTheSameITMProbability() throws {
        let folder = temporaryFolder("scoring")
        defer { try? FileManager.default.removeItem(at: folder) }
        let itm = TestDataset.models.appendingPathComponent("itm").path
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        var rng = SplitMix(seed: 11)
        try Data(try ImageEncoder.jpeg(TestDataset.scene(&rng, width: 72, height: 56), quality: 90))
            .write(to: folder.appendingPathComponent("images/a.jpg"))
        // Upper case, punctuation and words past max_words: pre_caption changes all three.
        let text = "A RED Square, on a (plain) background! Seen from far away, at noon."
        try JSONSerialization.data(withJSONObject: [["image": "images/a.jpg", "caption": text]])
            .write(to: folder.appendingPathComponent("web.json"))
        let pipeline = folder.appendingPathComponent("pipeline.yaml").path
        try """
            dataset: scoring
            workdir: \(folder.appendingPathComponent("work").path)
            threads: 1
            stages:
              ingest:
                manifests:
                  - {path: web.json, format: blip-pretrain, source: web}
              fetch:
                needs: [ingest]
                allow_private: true
                fsync: false
              decode:
                needs: [fetch]
              filter:
                needs: [decode]
                model: \(itm)
                max_words: 6
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let run = try CapfiltProcess.run(["run", "--plain", pipeline])
        XCTAssertEqual(run.status, 0, run.stderr)

        // What the filter stored, and the image file it scored.
        let catalogPath = folder.appendingPathComponent("work/shards/00000-of-00001/catalog.sqlite").path
        let dump = try Catalog(path: catalogPath).read { try $0.canonicalDump() }
        func rows(_ table: String) -> [[String: String]] {
            dump.components(separatedBy: "# \(table)\n")[1].components(separatedBy: "\n# ")[0].split(separator: "\n").map { line in
                Dictionary(uniqueKeysWithValues: line.split(separator: "\t").map {
                    let parts = $0.split(separator: "=", maxSplits: 1).map(String.init)
                    return (parts[0], parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : "")
                })
            }
        }
        XCTAssertEqual(rows("texts").map { $0["text"] }, [text])
        let stored = try XCTUnwrap(Double(XCTUnwrap(rows("decisions").first?["itm_probability"])))
        let blob = try XCTUnwrap(rows("images").first?["blob_path"])

        func score(_ extra: [String]) throws -> Double {
            let r = try CapfiltProcess.runCapturingOutput(["score", "--model", itm, "--json", "--threads", "1",
                                                           "--image", blob, "--text", text] + extra)
            XCTAssertEqual(r.status, 0)
            let line = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return line["itm"] as! Double
        }
        let cli = try score(["--max-words", "6"])
        print("ITM probability: filter stage \(stored), capfilt score \(cli)")
        // The CLI prints the model's Float; the catalog stores it widened to Double.
        XCTAssertEqual(Float(cli), Float(stored))
        XCTAssertNotEqual(Float(try score(["--max-words", "6", "--no-pre-caption"])), Float(stored),
                          "the text as given scores differently: cleaning is part of the recipe")
    }
}
