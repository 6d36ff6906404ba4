import XCTest
@testable import Gates

/// Every bound with a sample just inside (kept) and just outside (dropped, naming the rule and
/// the value against the bound).
final class SampleRulesTests: XCTestCase {
    private func sized(_ w: Int, _ h: Int) -> GateSample { GateSample(width: GateValue(w), height: GateValue(h)) }

    func testMinSide() {
        let rules = SampleRules(minSide: 200)
        XCTAssertNil(rules.judge(sized(200, 900)))
        XCTAssertEqual(rules.judge(sized(900, 199)), GateDrop(.minSide, "199 < 200 (900x199)"))
        XCTAssertEqual(rules.judge(sized(900, 199))?.description, "min_side: 199 < 200 (900x199)")
    }

    func testMinPixels() {
        let rules = SampleRules(minPixels: 40_000)
        XCTAssertNil(rules.judge(sized(200, 200)))
        XCTAssertEqual(rules.judge(sized(199, 201))?.description, "min_pixels: 39999 < 40000 (199x201)")
    }

    func testAspectRatioRange() {
        let rules = SampleRules(minAspectRatio: 0.5, maxAspectRatio: 2)
        XCTAssertNil(rules.judge(sized(100, 200)), "exactly 0.5 is inside")
        XCTAssertNil(rules.judge(sized(200, 100)), "exactly 2 is inside")
        XCTAssertEqual(rules.judge(sized(99, 200))?.rule, .minAspectRatio)
        XCTAssertEqual(rules.judge(sized(99, 200))?.description, "min_aspect_ratio: 0.495 < 0.5 (99x200)")
        XCTAssertEqual(rules.judge(sized(201, 100))?.description, "max_aspect_ratio: 2.01 > 2 (201x100)")
    }

    func testSimilarityPunsafeAndPwatermark() {
        let rules = SampleRules(minSimilarity: 0.28, maxPunsafe: 0.5, maxPwatermark: 0.8)
        func laion(_ sim: String, _ unsafe: String, _ mark: String) -> GateSample {
            GateSample(similarity: GateValue(text: sim), punsafe: GateValue(text: unsafe), pwatermark: GateValue(text: mark))
        }
        XCTAssertNil(rules.judge(laion("0.28", "0.5", "0.8")), "every bound holds inclusively")
        XCTAssertEqual(rules.judge(laion("0.27999", "0.5", "0.8"))?.description, "min_similarity: 0.27999 < 0.28")
        XCTAssertEqual(rules.judge(laion("0.28", "0.50001", "0.8"))?.description, "max_punsafe: 0.50001 > 0.5")
        XCTAssertEqual(rules.judge(laion("0.28", "0.5", "0.80001"))?.description, "max_pwatermark: 0.80001 > 0.8")
    }

    func testAbsentValuesPassAndUnreadableOnesFail() {
        let rules = SampleRules(minSide: 10, maxPunsafe: 0.5)
        XCTAssertNil(rules.judge(GateSample()), "no size and no punsafe column: nothing to judge")
        XCTAssertNil(rules.judge(GateSample(width: GateValue(5))), "half a size is no size")
        XCTAssertEqual(rules.judge(GateSample(punsafe: GateValue(text: "nan")))?.description, "max_punsafe: punsafe `nan` is not a number")
        XCTAssertEqual(rules.judge(GateSample(width: GateValue(text: "wide"), height: GateValue(40)))?.description,
                       "min_side: width `wide` is not a number")
        XCTAssertEqual(rules.judge(sized(0, 40))?.description, "min_side: 0x40 is not an image size")
        XCTAssertNil(SampleRules().judge(GateSample(url: "https://x", width: GateValue(1), height: GateValue(1),
                                                    punsafe: GateValue(text: "bad"))), "no rule given: everything passes")
    }

    func testBlocklistsAndTheOrderOfRules() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let digest = String(repeating: "c", count: 64)
        let rules = SampleRules(
            urlBlocklist: try Blocklist(kind: .url, path: try write("urls.txt", "https://ok.example/banned.jpg\n")),
            domainBlocklist: try Blocklist(kind: .domain, path: try write("domains.txt", "spam.example\n")),
            sha256Blocklist: try Blocklist(kind: .sha256, path: try write("digests.txt", digest + "\n")),
            minSide: 100)
        XCTAssertEqual(rules.judge(GateSample(url: "https://ok.example/banned.jpg"))?.description, "url_blocklist: URL listed in urls.txt")
        XCTAssertEqual(rules.judge(GateSample(url: "https://img.spam.example/a.jpg"))?.description,
                       "domain_blocklist: spam.example listed in domains.txt")
        XCTAssertEqual(rules.judge(GateSample(url: "https://ok.example/a.jpg", sha256: digest))?.description,
                       "sha256_blocklist: cccccccccccccccc... listed in digests.txt")
        XCTAssertNil(rules.judge(GateSample(url: "https://ok.example/a.jpg", sha256: String(repeating: "d", count: 64))))
        // A listed URL that is also too small is recorded under the first rule checked.
        let both = GateSample(url: "https://ok.example/banned.jpg", width: GateValue(5), height: GateValue(5))
        XCTAssertEqual(rules.judge(both)?.rule, .urlBlocklist)
    }

    func testManifestMetadataReadsLAIONColumnsWithoutCase() {
        let m = ManifestMetadata(json: #"{"WIDTH":"640","height":"480","similarity":"0.31","punsafe":"0.02","pwatermark":"x","other":"1"}"#)
        XCTAssertEqual(m.width, .number(640))
        XCTAssertEqual(m.height, .number(480))
        XCTAssertEqual(m.similarity, .number(0.31))
        XCTAssertEqual(m.punsafe, .number(0.02))
        XCTAssertEqual(m.pwatermark, .unreadable("x"))
        XCTAssertEqual(ManifestMetadata(json: "{}"), ManifestMetadata())
        XCTAssertEqual(ManifestMetadata(json: "not json"), ManifestMetadata())
        XCTAssertEqual(ManifestMetadata(json: #"{"width":512,"height":null}"#).width, .number(512))
    }
}

/// The metadata scanner: what ingest writes, and any other JSON object read the same way.
final class ManifestMetadataTests: XCTestCase {
    func testObjectsOfAnyShape() {
        let spaced = ManifestMetadata(json: #" { "Width" : 640 , "height":480.0, "punsafe": null, "tags": ["a", {"b": "}\""}], "similarity": " 0.3 " } "#)
        XCTAssertEqual(spaced.width, .number(640))
        XCTAssertEqual(spaced.height, .number(480))
        XCTAssertEqual(spaced.punsafe, .absent, "null is no value")
        XCTAssertEqual(spaced.similarity, .number(0.3), "spaces around a number are allowed")
        let escaped = ManifestMetadata(json: #"{"caption":"a \"quoted\" word","pwatermark":"0.\u0035","punsafe":"\ud83d\ude00"}"#)
        XCTAssertEqual(escaped.pwatermark, .number(0.5))
        XCTAssertEqual(escaped.punsafe, .unreadable("😀"))
        XCTAssertEqual(ManifestMetadata(json: #"{"similarity":true}"#).similarity, .unreadable("true"), "a boolean is not a number")
        XCTAssertEqual(ManifestMetadata(json: #"{"width":[1]}"#).width, .unreadable("[1]"))
        for broken in ["", "{", "[]", #"{"width":"#, #"{"width":"1""#, #"{"width" "1"}"#, "not json", #"{"a":"\x"}"#] {
            XCTAssertEqual(ManifestMetadata(json: broken), ManifestMetadata(), broken)
        }
        XCTAssertEqual(ManifestMetadata(json: "{}"), ManifestMetadata())
    }
}
