import Foundation
import XCTest
@testable import Ingest

/// Reads every sample manifest under manifests/samples and checks the exact samples and
/// problems, plus errors, empty files, gzip, path escapes and memory.
final class ManifestReaderTests: XCTestCase {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("manifests/samples")

    private func sample(_ relative: String) -> String { Self.samples.appendingPathComponent(relative).path }

    private func read(_ path: String, format: ManifestFormat? = nil, options: ManifestOptions = ManifestOptions(),
                      file: StaticString = #filePath, line: UInt = #line) throws -> [ManifestRecord] {
        var reader = try openManifest(path: path, format: format, options: options)
        var out: [ManifestRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    private func samplesOf(_ records: [ManifestRecord]) -> [ManifestSample] { records.compactMap(\.sample) }
    private func problemsOf(_ records: [ManifestRecord]) -> [ManifestProblem] { records.compactMap(\.problem) }

    /// (line, record, reason) of each problem.
    private func summary(_ problems: [ManifestProblem]) -> [String] {
        problems.map { "\($0.line.map(String.init) ?? "-") \($0.record.map(String.init) ?? "-") \($0.reason)" }
    }

    private var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = tempDir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.data(using: .utf8)!.write(to: url)
        return url.path
    }

    // MARK: COCO

    func testCOCO2014() throws {
        let records = try read(sample("coco/captions_val2014_sample.json"), options: ManifestOptions(imageRoot: "/data/coco/val2014"))
        XCTAssertEqual(problemsOf(records), [])
        let s = samplesOf(records)
        XCTAssertEqual(s.map(\.key), ["391895", "522418", "184613"])
        XCTAssertEqual(s[0], ManifestSample(
            source: "coco", key: "391895", url: nil, localPath: "/data/coco/val2014/COCO_val2014_000000391895.jpg",
            captions: ["A man with a red helmet rides a small motorbike on a dirt road.",
                       "Person riding a motorcycle along a trail in the hills.",
                       "A rider on a dirt bike with mountains behind him.",
                       "A man on a motorbike on a narrow mountain path.",
                       "Motorcyclist wearing a helmet on an unpaved road."],
            origin: .human,
            metadata: ["coco_url": "http://images.cocodataset.org/val2014/COCO_val2014_000000391895.jpg",
                       "flickr_url": "http://farm9.staticflickr.com/8186/8119368305_4e622c8349_z.jpg",
                       "height": "360", "width": "640", "license": "3", "date_captured": "2013-11-14 11:18:45"]))
        XCTAssertEqual(s[1].captions.count, 5)
        XCTAssertEqual(s[2].captions.first, "A boy holding an umbrella while standing next to cattle.")
        XCTAssertEqual(s[2].localPath, "/data/coco/val2014/COCO_val2014_000000184613.jpg")
    }

    func testCOCO2017() throws {
        let records = try read(sample("coco/captions_val2017_sample.json"), options: ManifestOptions(imageRoot: "/data/coco/val2017"))
        let s = samplesOf(records)
        XCTAssertEqual(problemsOf(records), [])
        XCTAssertEqual(s.map(\.key), ["397133", "37777"])
        XCTAssertEqual(s.map(\.localPath), ["/data/coco/val2017/000000397133.jpg", "/data/coco/val2017/000000037777.jpg"])
        XCTAssertEqual(s[1].captions, ["A small kitchen with a stove, a fridge and wooden cabinets.",
                                       "An empty kitchen with the lights on.",
                                       "A tidy kitchen corner with a refrigerator.",
                                       "Wooden kitchen cupboards above a white oven.",
                                       "A kitchen with a fridge next to the stove."])
        XCTAssertEqual(s[1].metadata["coco_url"], "http://images.cocodataset.org/val2017/000000037777.jpg")
        XCTAssertEqual(s[1].metadata["width"], "352")
    }

    func testCOCOMalformed() throws {
        let records = try read(sample("coco/captions_malformed.json"), options: ManifestOptions(imageRoot: "/data/coco"))
        XCTAssertEqual(summary(problemsOf(records)), [
            "7 3 image without an id",
            "11 1 missing caption",
            "13 3 annotation for unknown image_id 999",
            "14 4 annotation without an image_id",
            "5 1 path escapes image root",
            "6 2 missing caption",
        ])
        XCTAssertEqual(samplesOf(records), [ManifestSample(
            source: "coco", key: "42", localPath: "/data/coco/COCO_val2014_000000000042.jpg",
            captions: ["A pizza with olives and peppers on a plate.", "Slices of pizza on a white plate."], origin: .human,
            metadata: ["coco_url": "http://images.cocodataset.org/val2014/COCO_val2014_000000000042.jpg",
                       "height": "640", "width": "478"])])
    }

    // MARK: Karpathy, BLIP lists

    func testKarpathyTrainGroupsConsecutiveCaptions() throws {
        let records = try read(sample("karpathy/coco_karpathy_train_sample.json"), options: ManifestOptions(imageRoot: "/data/coco"))
        XCTAssertEqual(problemsOf(records), [])
        XCTAssertEqual(samplesOf(records), [
            ManifestSample(source: "karpathy", key: "coco_522418", localPath: "/data/coco/val2014/COCO_val2014_000000522418.jpg",
                           captions: ["A woman wearing a net on her head cutting a cake.", "A woman cutting a large white sheet cake.",
                                      "A woman wearing a hair net cutting a large sheet cake."], origin: .human),
            ManifestSample(source: "karpathy", key: "coco_184613", localPath: "/data/coco/val2014/COCO_val2014_000000184613.jpg",
                           captions: ["A child holding a flowered umbrella and petting a yak.",
                                      "A young man holding an umbrella next to a herd of cattle."], origin: .human),
            ManifestSample(source: "karpathy", key: "coco_57870", localPath: "/data/coco/train2014/COCO_train2014_000000057870.jpg",
                           captions: ["A bicycle replica with a clock as the front wheel."], origin: .human),
        ])
    }

    func testKarpathyValCaptionLists() throws {
        let records = try read(sample("karpathy/coco_karpathy_val_sample.json"), options: ManifestOptions(imageRoot: "/data/coco"))
        let s = samplesOf(records)
        XCTAssertEqual(s.map(\.key), ["val2014/COCO_val2014_000000391895.jpg", "val2014/COCO_val2014_000000060623.jpg"])
        XCTAssertEqual(s.map(\.captions.count), [5, 5])
        XCTAssertEqual(s[1].captions[3], "Girl blowing out the candle on an ice-cream.")
        XCTAssertEqual(s[0].localPath, "/data/coco/val2014/COCO_val2014_000000391895.jpg")
    }

    func testKarpathyMalformed() throws {
        let records = try read(sample("karpathy/karpathy_malformed.json"), options: ManifestOptions(imageRoot: "/data/coco"))
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(records[0].sample?.key, "coco_25")
        XCTAssertEqual(records[0].sample?.captions, ["A giraffe standing next to a tall tree."])
        let problems = problemsOf(records)
        XCTAssertEqual(problems.map(\.line), [3, 4, 5, 6])
        XCTAssertEqual(problems.map(\.record), [1, 2, 3, 4])
        XCTAssertEqual(problems[0].reason, "path escapes image root")
        XCTAssertEqual(problems[1].reason, "missing caption")
        XCTAssertEqual(problems[2].reason, "missing image path")
        XCTAssertTrue(problems[3].reason.hasPrefix("invalid JSON"), problems[3].reason)
        XCTAssertEqual(records[5].sample, ManifestSample(
            source: "karpathy", key: "val2014/COCO_val2014_000000000049.jpg",
            localPath: "/data/coco/val2014/COCO_val2014_000000000049.jpg", captions: ["Two giraffes eating leaves."], origin: .human))
    }

    func testBLIPCapfiltList() throws {
        let records = try read(sample("blip/ccs_filtered_sample.json"))
        XCTAssertEqual(samplesOf(records), [
            ManifestSample(source: "blip-capfilt", key: "0",
                           url: "http://lh6.ggpht.com/-IvRtNLNcG8o/TpFyrudaT6I/AAAAAAAAM6o/_11MuAAKalQ/IMG_3422.JPG",
                           captions: ["a bus parked at a bus station", "a very typical bus station"], origin: .web),
            ManifestSample(source: "blip-capfilt", key: "2",
                           url: "https://media.gettyimages.com/photos/young-confused-girl-standing-in-front-of-a-wardrobe-picture-id522934464?s=612x612",
                           captions: ["a girl standing in front of a closet"], origin: .web),
            ManifestSample(source: "blip-capfilt", key: "3", url: "http://static.flickr.com/2723/4385058960_b0f291553e.jpg",
                           captions: ["man sits in a rusted car buried in the sand"], origin: .web),
        ])
    }

    func testBLIPCapfiltMalformed() throws {
        let records = try read(sample("blip/ccs_filtered_malformed.json"))
        XCTAssertEqual(samplesOf(records).map(\.key), ["0", "5"])
        let p = problemsOf(records)
        XCTAssertEqual(p.map(\.line), [3, 4, 5, 6])
        XCTAssertEqual(p.map(\.record), [1, 2, 3, 4])
        XCTAssertEqual(p[0].reason, "missing url")
        XCTAssertTrue(p[1].reason.hasPrefix("invalid JSON"))
        XCTAssertEqual(p[2].reason, "missing url")
        XCTAssertEqual(p[3].reason, "expected a JSON object")
        XCTAssertEqual(records.map { $0.sample != nil }, [true, false, false, false, false, true])
    }

    func testBLIPPretrainList() throws {
        let records = try read(sample("blip/pretrain_sample.json"), options: ManifestOptions(imageRoot: "/datasets", origin: .human))
        XCTAssertEqual(samplesOf(records), [
            ManifestSample(source: "blip-pretrain", key: "coco/images/val2014/COCO_val2014_000000391895.jpg",
                           localPath: "/datasets/coco/images/val2014/COCO_val2014_000000391895.jpg",
                           captions: ["a man with a red helmet on a small moped on a dirt road",
                                      "man riding a motor bike on a dirt road on the countryside"], origin: .human),
            ManifestSample(source: "blip-pretrain", key: "vg/images/VG_100K/2.jpg", localPath: "/datasets/vg/images/VG_100K/2.jpg",
                           captions: ["walkway is made of bricks"], origin: .human),
            ManifestSample(source: "blip-pretrain", key: "cc3m/00000/000000012.jpg", localPath: "/datasets/cc3m/00000/000000012.jpg",
                           captions: ["young confused girl standing in front of a wardrobe"], origin: .human),
        ])
    }

    // MARK: Visual Genome

    func testVisualGenome() throws {
        let expected = [
            ManifestSample(source: "vg", key: "1", localPath: "/data/vg/VG_100K_2/1.jpg",
                           captions: ["the clock is green in colour", "shade is along the street", "man is wearing sneakers"],
                           origin: .human,
                           metadata: ["url": "https://cs.stanford.edu/people/rak248/VG_100K_2/1.jpg", "width": "800", "height": "600"]),
            ManifestSample(source: "vg", key: "2", localPath: "/data/vg/VG_100K/2.jpg",
                           captions: ["walkway is made of bricks", "a tall light post"], origin: .human,
                           metadata: ["url": "https://cs.stanford.edu/people/rak248/VG_100K/2.jpg", "width": "800", "height": "600"]),
            ManifestSample(source: "vg", key: "107", localPath: "/data/vg/VG_100K/107.jpg",
                           captions: ["a white plate with a sandwich", "glass of orange juice"], origin: .human,
                           metadata: ["url": "https://cs.stanford.edu/people/rak248/VG_100K/107.jpg", "width": "640", "height": "480",
                                      "coco_id": "458752", "flickr_id": "2475926312"]),
        ]
        let options = ManifestOptions(imageRoot: "/data/vg")
        // The regions file, the folder, or the image table all lead to the same join.
        for path in [sample("vg/region_descriptions.json"), sample("vg"), sample("vg/image_data.json")] {
            let records = try read(path, format: path.hasSuffix("image_data.json") ? .vg : nil, options: options)
            XCTAssertEqual(records.compactMap(\.sample), expected, path)
            XCTAssertEqual(problemsOf(records), [], path)
        }
    }

    func testVisualGenomeMalformed() throws {
        let records = try read(sample("vg_malformed"), options: ManifestOptions(imageRoot: "/data/vg"))
        XCTAssertEqual(samplesOf(records).map(\.key), ["1"])
        let p = problemsOf(records)
        XCTAssertEqual(p.map(\.line), [3, 4, 5, 6])
        XCTAssertEqual(p[0].reason, "missing caption")
        XCTAssertEqual(p[1].reason, "image_id 5 not in image_data.json")
        XCTAssertTrue(p[2].reason.hasPrefix("invalid JSON"))
        XCTAssertEqual(p[3].reason, "expected {id, regions: [...]}")
    }

    func testVisualGenomeNeedsImageTable() throws {
        let regions = try write("vgonly/region_descriptions.json", "[{\"regions\": [], \"id\": 1}]")
        XCTAssertThrowsError(try read(regions, format: .vg)) { error in
            XCTAssertEqual(error as? ManifestError, .missingCompanion(file: regions, expected: "image_data.json"))
        }
    }

    func testBLIPVGCaption() throws {
        XCTAssertEqual(try ManifestFormat.detect(path: sample("vg/vg_caption.json")), .vgCaption)
        let s = samplesOf(try read(sample("vg/vg_caption.json"), options: ManifestOptions(imageRoot: "/data/vg")))
        XCTAssertEqual(s.map(\.key), ["VG_100K_2/1.jpg", "VG_100K/2.jpg", "VG_100K/107.jpg"])
        XCTAssertEqual(s.map(\.captions.count), [3, 2, 1])
        XCTAssertEqual(Set(s.map(\.source)), ["vg"])
        XCTAssertEqual(Set(s.map(\.origin)), [.human])
        XCTAssertEqual(s[1].localPath, "/data/vg/VG_100K/2.jpg")
    }

    // MARK: Conceptual Captions, SBU

    func testCC3M() throws {
        let records = try read(sample("cc3m/Train_GCC-training_sample.tsv"))
        XCTAssertEqual(problemsOf(records), [])
        let s = samplesOf(records)
        XCTAssertEqual(s.map(\.key), ["0", "1", "2", "3", "4"])
        XCTAssertEqual(s[0], ManifestSample(
            source: "cc3m", key: "0",
            url: "http://lh6.ggpht.com/-IvRtNLNcG8o/TpFyrudaT6I/AAAAAAAAM6o/_11MuAAKalQ/IMG_3422.JPG",
            captions: ["a very typical bus station"], origin: .web))
        XCTAssertEqual(s[4].captions, ["cybernetic scene isolated on white background ."])
        XCTAssertEqual(s[2].url, "https://media.gettyimages.com/photos/young-confused-girl-standing-in-front-of-a-wardrobe-picture-id522934464?s=612x612")
    }

    func testCC3MMalformed() throws {
        let records = try read(sample("cc3m/cc3m_malformed.tsv"))
        XCTAssertEqual(summary(problemsOf(records)), [
            "2 1 bad column count: expected 2, found 1",
            "3 2 missing url",
            "4 3 bad column count: expected 2, found 3",
            "5 4 url is not http(s)",
        ])
        XCTAssertEqual(samplesOf(records).map(\.key), ["0", "5"])
        XCTAssertEqual(samplesOf(records)[1].captions, ["an old tree in a field of wheat"])
        XCTAssertEqual(problemsOf(records)[0].excerpt, "this line has no url at all")
        XCTAssertTrue(problemsOf(records)[0].file.hasSuffix("cc3m/cc3m_malformed.tsv"))
    }

    func testCC12M() throws {
        let s = samplesOf(try read(sample("cc12m/cc12m_sample.tsv")))
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s[0], ManifestSample(
            source: "cc12m", key: "0", url: "https://i.pinimg.com/originals/a0/1f/ad/a01fad0d85f5a19ef26e1a7f2f4a1bd3.jpg",
            captions: ["<PERSON> was the first to climb this peak in winter"], origin: .web))
        XCTAssertEqual(s[2].captions, ["Easy lemon drizzle cake recipe that everyone will love"])
    }

    func testSBUTextJSONAndFolderAgree() throws {
        let expected = [
            ManifestSample(source: "sbu", key: "0", url: "http://static.flickr.com/2723/4385058960_b0f291553e.jpg",
                           captions: ["Man sits in a rusted car buried in the sand on Waitarere beach"], origin: .web),
            ManifestSample(source: "sbu", key: "1", url: "http://static.flickr.com/3237/3100463393_5a6d9a5e0a.jpg",
                           captions: ["Little girl and her dog in northern Thailand. They both seemed interested in what we were doing"],
                           origin: .web),
            ManifestSample(source: "sbu", key: "2", url: "http://static.flickr.com/51/132437451_ec2b6b6d3d.jpg",
                           captions: ["Interior design of modern white and brown living room furniture against white wall with a lamp hanging."],
                           origin: .web),
        ]
        for path in [sample("sbu/SBU_captioned_photo_dataset_urls.txt"), sample("sbu/SBU_captioned_photo_dataset_captions.txt"),
                     sample("sbu"), sample("sbu/sbu-captions-all.json")] {
            let records = try read(path, format: path.hasSuffix("captions.txt") ? .sbu : nil)
            XCTAssertEqual(records.compactMap(\.sample), expected, path)
            XCTAssertEqual(problemsOf(records), [], path)
        }
    }

    func testSBUMalformed() throws {
        let records = try read(sample("sbu_malformed"))
        XCTAssertEqual(samplesOf(records).map(\.key), ["0"])
        XCTAssertEqual(summary(problemsOf(records)), [
            "2 1 url is not http(s)",
            "3 2 missing caption",
            "4 3 captions file ends at line 3; the urls file goes on",
        ])
    }

    func testSBUJSONMissingArray() throws {
        let path = try write("sbu.json", "{\"image_urls\": [\"http://a/b.jpg\"], \"user_ids\": [\"1\"]}")
        XCTAssertThrowsError(try read(path, format: .sbuJSON)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(
                file: path, missing: ["captions"], expected: ["image_urls", "captions"], found: ["image_urls", "user_ids"]))
        }
    }

    // MARK: LAION sample

    func testLAIONSample() throws {
        let records = try read(sample("laion/laion_sample.parquet"))
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(records[0].sample, ManifestSample(
            source: "laion", key: "0", url: "https://i.pinimg.com/736x/1c/4f/7e/1c4f7e5b8a3b2d1c9e8f7a6b5c4d3e2f.jpg",
            captions: ["Vintage brass telescope on a wooden tripod"], origin: .web,
            metadata: ["width": "736", "height": "981", "similarity": "0.3527", "punsafe": "0.0012", "pwatermark": "0.0871",
                       "license": "?", "nsfw": "UNLIKELY", "hash": "3498710219870235431", "aesthetic_ok": "true"]))
        XCTAssertEqual(records[2].sample?.metadata["pwatermark"], nil)
        XCTAssertEqual(records[2].sample?.metadata["aesthetic_ok"], nil)
        XCTAssertEqual(records[3].problem, ManifestProblem(
            file: sample("laion/laion_sample.parquet"), record: 3, rowGroup: 0, reason: "missing caption",
            excerpt: "https://images.example-shop.com/p/12345/red-dress.jpg\tnull"))
        XCTAssertEqual(records[4].sample?.key, "4")
        XCTAssertEqual(records[4].sample?.metadata["width"], nil)
        XCTAssertEqual(records[4].sample?.metadata["hash"], "-1234567890123456789")
        XCTAssertEqual(records[5].problem?.reason, "missing url")
        XCTAssertEqual(records[5].problem?.rowGroup, 1)
        XCTAssertEqual(records[5].problem?.record, 5)
    }

    // MARK: Generic CSV / TSV / JSONL

    func testGenericCSV() throws {
        let records = try read(sample("generic/sample.csv"))
        XCTAssertEqual(problemsOf(records), [])
        XCTAssertEqual(samplesOf(records), [
            ManifestSample(source: "csv", key: "0", url: "https://example.com/images/0001.jpg",
                           captions: ["A red bicycle leaning against a wall"], origin: .web,
                           metadata: ["width": "640", "height": "480", "license": "cc-by"]),
            ManifestSample(source: "csv", key: "1", url: "https://example.com/images/0002.jpg",
                           captions: ["Tomatoes, basil and mozzarella on a plate"], origin: .web,
                           metadata: ["width": "800", "height": "600", "license": "cc-by-sa"]),
            ManifestSample(source: "csv", key: "2", url: "https://example.com/images/0003.jpg",
                           captions: ["The sign says \"open late\""], origin: .web,
                           metadata: ["width": "1024", "height": "768"]),
            ManifestSample(source: "csv", key: "3", url: "https://example.com/images/0004.jpg",
                           captions: ["A poem on a card:\nroses are red"], origin: .web,
                           metadata: ["width": "500", "height": "500", "license": "cc0"]),
        ])
    }

    func testGenericCSVMalformed() throws {
        let records = try read(sample("generic/sample_malformed.csv"))
        XCTAssertEqual(summary(problemsOf(records)), [
            "3 1 bad column count: expected 5, found 6",
            "4 2 missing url",
            "5 3 missing caption",
        ])
        XCTAssertEqual(samplesOf(records).map(\.key), ["0", "4"])
        XCTAssertEqual(samplesOf(records)[1].captions, ["A snowy mountain village"])
    }

    func testGenericTSV() throws {
        XCTAssertEqual(samplesOf(try read(sample("generic/sample.tsv"))), [
            ManifestSample(source: "tsv", key: "0", url: "https://example.com/images/0101.jpg",
                           captions: ["A dog catching a frisbee in a park"], origin: .web, metadata: ["similarity": "0.3412"]),
            ManifestSample(source: "tsv", key: "1", url: "https://example.com/images/0102.jpg",
                           captions: ["Two cups of coffee on a wooden table"], origin: .web, metadata: ["similarity": "0.3120"]),
        ])
    }

    func testGenericJSONL() throws {
        XCTAssertEqual(samplesOf(try read(sample("generic/sample.jsonl"))), [
            ManifestSample(source: "jsonl", key: "0", url: "https://example.com/images/0201.jpg",
                           captions: ["A lighthouse on a rocky coast at dusk"], origin: .web,
                           metadata: ["width": "1280", "height": "720", "nsfw": "false", "tags": "[\"sea\",\"coast\"]"]),
            ManifestSample(source: "jsonl", key: "1", url: "https://example.com/images/0202.jpg",
                           captions: ["A bowl of ramen with a soft-boiled egg"], origin: .web,
                           metadata: ["width": "800", "height": "800", "nsfw": "false"]),
        ])
    }

    func testGenericJSONLMalformed() throws {
        let records = try read(sample("generic/sample_malformed.jsonl"))
        XCTAssertEqual(samplesOf(records).map(\.key), ["0", "4"])
        let p = problemsOf(records)
        XCTAssertEqual(p.map(\.line), [2, 3, 5])
        XCTAssertEqual(p.map(\.record), [1, 2, 3])
        XCTAssertTrue(p[0].reason.hasPrefix("invalid JSON"))
        XCTAssertEqual(p[1].reason, "missing url")
        XCTAssertEqual(p[2].reason, "expected a JSON object")
    }

    func testWrongColumnNamesNameExpectedAndFound() throws {
        let path = sample("generic/wrong_columns.csv")
        XCTAssertThrowsError(try read(path)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(
                file: path, missing: ["url", "caption"], expected: ["url", "caption"], found: ["image_url", "text", "width"]))
            XCTAssertEqual("\(error)", "\(path): missing column(s) url, caption; expected columns: url, caption; found: image_url, text, width")
        }
        // img2dataset's url_col / caption_col fix it.
        let s = samplesOf(try read(path, options: ManifestOptions(urlColumn: "image_url", captionColumn: "text")))
        XCTAssertEqual(s, [ManifestSample(source: "csv", key: "0", url: "https://example.com/images/0501.jpg",
                                          captions: ["A kite over a beach"], origin: .web, metadata: ["width": "640"])])

        let jsonl = try write("wrong.jsonl", "{\"link\": \"http://a.com/1.jpg\", \"caption\": \"x\"}\n")
        XCTAssertThrowsError(try read(jsonl)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(file: jsonl, missing: ["url"], expected: ["url", "caption"],
                                                                    found: ["link", "caption"]))
        }
        let list = try write("wrong.json", "[{\"URL\": \"http://a.com/1.jpg\", \"TEXT\": \"x\"}]")
        XCTAssertThrowsError(try read(list, format: .blipCapfilt)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(file: list, missing: ["url", "caption"],
                                                                    expected: ["url", "caption"], found: ["URL", "TEXT"]))
        }
        let coco = try write("coco.json", "{\"info\": {}, \"images\": []}")
        XCTAssertThrowsError(try read(coco, format: .coco)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(file: coco, missing: ["annotations"],
                                                                    expected: ["images", "annotations"], found: ["info", "images"]))
        }
    }

    func testCSVQuotingEdgeCases() throws {
        let path = try write("edge.csv", "\u{FEFF}url,caption,note\r\n"
            + "http://a.com/1.jpg,\"multi\r\nline, with comma\",\"say \"\"hi\"\"\"\r\n"
            + "\r\n"
            + "http://a.com/2.jpg,plain \"inner\" quotes,\r\n"
            + "http://a.com/3.jpg,\"never closed,x\n")
        let records = try read(path)
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(records[0].sample?.captions, ["multi\nline, with comma"])
        XCTAssertEqual(records[0].sample?.metadata, ["note": "say \"hi\""])
        XCTAssertEqual(records[1].sample?.key, "1")
        XCTAssertEqual(records[1].sample?.captions, ["plain \"inner\" quotes"])
        XCTAssertEqual(records[2].problem?.reason, "unterminated quoted field")
        XCTAssertEqual(records[2].problem?.line, 6)
    }

    // MARK: Detection, options

    func testFormatDetection() throws {
        let cases: [(String, ManifestFormat)] = [
            ("coco/captions_val2014_sample.json", .coco), ("coco/captions_val2017_sample.json", .coco),
            ("karpathy/coco_karpathy_train_sample.json", .karpathy), ("karpathy/coco_karpathy_val_sample.json", .karpathy),
            ("vg/region_descriptions.json", .vg), ("vg", .vg), ("vg/vg_caption.json", .vgCaption),
            ("cc3m/Train_GCC-training_sample.tsv", .cc3m), ("cc12m/cc12m_sample.tsv", .cc12m),
            ("sbu/SBU_captioned_photo_dataset_urls.txt", .sbu), ("sbu", .sbu), ("sbu/sbu-captions-all.json", .sbuJSON),
            ("laion/laion_sample.parquet", .laion), ("blip/ccs_filtered_sample.json", .blipCapfilt),
            ("blip/pretrain_sample.json", .blipPretrain), ("generic/sample.csv", .csv), ("generic/sample.tsv", .tsv),
            ("generic/sample.jsonl", .jsonl),
            ("gz/coco/captions_val2014_sample.json.gz", .coco), ("gz/cc3m/Train_GCC-training_sample.tsv.gz", .cc3m),
            ("gz/generic/sample.jsonl.gz", .jsonl), ("gz/sbu/sbu-captions-all.json.gz", .sbuJSON),
        ]
        for (path, format) in cases {
            XCTAssertEqual(try ManifestFormat.detect(path: sample(path)), format, path)
        }
        // JSON Lines without the extension.
        let jl = try write("rows.txt", "{\"url\": \"http://a.com/1.jpg\", \"caption\": \"x\"}\n{\"url\": \"http://a.com/2.jpg\", \"caption\": \"y\"}\n")
        XCTAssertEqual(try ManifestFormat.detect(path: jl), .jsonl)
        let odd = try write("odd.txt", "hello world\n")
        XCTAssertThrowsError(try ManifestFormat.detect(path: odd)) { error in
            guard case .undetectedFormat? = error as? ManifestError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ManifestFormat.detect(path: sample("vg/image_data.json")))
        XCTAssertEqual(ManifestFormat(name: "parquet"), .laion)
        XCTAssertEqual(ManifestFormat(name: "blip-capfilt"), .blipCapfilt)
        XCTAssertNil(ManifestFormat(name: "nope"))
    }

    func testSourceOverrideAndKeyPrefix() throws {
        let s = samplesOf(try read(sample("cc3m/Train_GCC-training_sample.tsv"),
                                   options: ManifestOptions(source: "gcc-train", keyPrefix: "part0/")))
        XCTAssertEqual(s.map(\.source), Array(repeating: "gcc-train", count: 5))
        XCTAssertEqual(s.first?.key, "part0/0")
    }

    func testMetadataColumnsOption() throws {
        let s = samplesOf(try read(sample("generic/sample.csv"), options: ManifestOptions(metadataColumns: ["license"])))
        XCTAssertEqual(s.map(\.metadata), [["license": "cc-by"], ["license": "cc-by-sa"], [:], ["license": "cc0"]])
    }

    // MARK: Empty files, gzip

    func testEmptyFilesYieldNothing() throws {
        let blank = try write("blank.txt", "")
        let spaces = try write("spaces.txt", "  \n\n ")
        let emptyGzip = try write("empty.gz", "")
        for format in ManifestFormat.allCases where format != .vg && format != .sbu {
            for path in [blank, spaces, emptyGzip] {
                XCTAssertEqual(try read(path, format: format), [], "\(format) \(path)")
            }
        }
        XCTAssertEqual(try read(blank), [])
        XCTAssertEqual(try read(try write("e.json", "[]"), format: .blipCapfilt), [])
        XCTAssertEqual(try read(try write("e2.json", " [ ] "), format: .karpathy), [])
        XCTAssertEqual(try read(try write("c.json", "{\"images\": [], \"annotations\": []}")), [])
        XCTAssertEqual(try read(try write("h.csv", "url,caption\n")), [])
        XCTAssertEqual(try read(try write("s.json", "{\"image_urls\": [], \"captions\": []}"), format: .sbuJSON), [])
        let vg = try write("vgempty/region_descriptions.json", "")
        _ = try write("vgempty/image_data.json", "[]")
        XCTAssertEqual(try read(vg, format: .vg), [])
        let sbuURLs = try write("sbuempty/SBU_captioned_photo_dataset_urls.txt", "")
        _ = try write("sbuempty/SBU_captioned_photo_dataset_captions.txt", "")
        XCTAssertEqual(try read(sbuURLs, format: .sbu), [])
    }

    /// Every text sample has a gzip copy under gz/; both must read the same.
    func testGzipCopiesReadTheSame() throws {
        let gzRoot = Self.samples.appendingPathComponent("gz")
        let files = FileManager.default.enumerator(atPath: gzRoot.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".gz") }
        XCTAssertGreaterThan(files.count, 25)
        var compared = 0
        for gz in files.sorted() {
            let plain = String(gz.dropLast(3))
            let name = (plain as NSString).lastPathComponent
            if name == "image_data.json" || name.contains("_captions.txt") { continue }   // read through their partners
            let options = ManifestOptions(imageRoot: "/root")
            let a: [ManifestRecord], b: [ManifestRecord]
            do {
                a = try read(sample(plain), options: options)
            } catch {
                XCTAssertThrowsError(try read(gzRoot.appendingPathComponent(gz).path, options: options), gz)
                continue
            }
            b = try read(gzRoot.appendingPathComponent(gz).path, options: options)
            let strip = { (r: ManifestRecord) -> ManifestRecord in
                guard case .malformed(var p) = r else { return r }
                p.file = ""
                return .malformed(p)
            }
            XCTAssertEqual(a.map(strip), b.map(strip), gz)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 15)
    }

    func testConcatenatedGzipMembers() throws {
        let member = try Data(contentsOf: Self.samples.appendingPathComponent("gz/cc3m/Train_GCC-training_sample.tsv.gz"))
        let path = tempDir.appendingPathComponent("two.tsv.gz")
        try (member + member).write(to: path)
        let s = samplesOf(try read(path.path))
        XCTAssertEqual(s.count, 10)
        XCTAssertEqual(s[5].captions, s[0].captions)
        XCTAssertEqual(s[9].key, "9")
    }

    func testTruncatedGzipIsAnError() throws {
        let member = try Data(contentsOf: Self.samples.appendingPathComponent("gz/cc3m/Train_GCC-training_sample.tsv.gz"))
        let path = tempDir.appendingPathComponent("cut.tsv.gz")
        try member.prefix(member.count - 20).write(to: path)
        XCTAssertThrowsError(try read(path.path, format: .cc3m)) { error in
            XCTAssertEqual(error as? ManifestError, .corrupt(file: path.path, reason: "gzip stream is truncated"))
        }
    }

    // MARK: Paths

    func testPathsEscapingTheRootAreRefused() throws {
        let path = try write("paths.json", """
            [{"image": "ok/a.jpg", "caption": "a"},
             {"image": "../outside.jpg", "caption": "b"},
             {"image": "/etc/passwd", "caption": "c"},
             {"image": "x/../../y.jpg", "caption": "d"},
             {"image": "x/./y/../z.jpg", "caption": "e"},
             {"image": "/data/imgs/inside.jpg", "caption": "f"},
             {"image": "/data/imgs/../secrets.jpg", "caption": "g"},
             {"image": "..", "caption": "h"}]
            """)
        let records = try read(path, format: .blipPretrain, options: ManifestOptions(imageRoot: "/data/imgs/"))
        XCTAssertEqual(records.map { $0.sample?.localPath ?? $0.problem!.reason }, [
            "/data/imgs/ok/a.jpg", "path escapes image root", "path escapes image root", "path escapes image root",
            "/data/imgs/x/z.jpg", "/data/imgs/inside.jpg", "path escapes image root", "path escapes image root",
        ])
        XCTAssertEqual(problemsOf(records).map(\.line), [2, 3, 4, 7, 8])
    }

    func testImageRootDefaultsToTheManifestFolder() throws {
        let s = samplesOf(try read(sample("blip/pretrain_sample.json")))
        XCTAssertEqual(s.first?.localPath, Self.samples.appendingPathComponent("blip/coco/images/val2014/COCO_val2014_000000391895.jpg").path)
    }

    // MARK: Lines

    func testBlankLinesCRLFAndLongLines() throws {
        let long = String(repeating: "a", count: LineReader.maxLength + 10)
        let path = try write("lines.tsv", "first caption\thttp://a.com/1.jpg\r\n\n\(long)\thttp://a.com/2.jpg\nlast\thttp://a.com/3.jpg")
        let records = try read(path, format: .cc3m)
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(records[0].sample, ManifestSample(source: "cc3m", key: "0", url: "http://a.com/1.jpg",
                                                         captions: ["first caption"], origin: .web))
        XCTAssertEqual(records[1].problem, ManifestProblem(file: path, line: 3, record: 1, reason: "line longer than 16 MiB"))
        XCTAssertEqual(records[2].sample?.key, "2")
        XCTAssertEqual(records[2].sample?.url, "http://a.com/3.jpg")
    }

    func testInvalidUTF8IsMalformed() throws {
        let path = tempDir.appendingPathComponent("bad.tsv")
        var bytes = Array("ok\thttp://a.com/1.jpg\n".utf8)
        bytes += [0x62, 0xFF, 0x61, 0x09] + Array("http://a.com/2.jpg\n".utf8)
        try Data(bytes).write(to: path)
        let records = try read(path.path, format: .cc3m)
        XCTAssertEqual(records[1].problem?.reason, "invalid UTF-8")
    }

    // MARK: JSON output

    func testJSONLinesRoundTrip() throws {
        let s = ManifestSample(source: "csv", key: "7", url: "http://a.com/\"q\".jpg", localPath: nil,
                               captions: ["tab\there", "new\nline \\ é 東京 \u{1}"], origin: .web, metadata: ["b": "2", "a": "1"])
        let line = s.jsonLine()
        XCTAssertEqual(line, #"{"source":"csv","key":"7","url":"http://a.com/\"q\".jpg","captions":["tab\there","new\nline \\ é 東京 \u0001"],"origin":"web","metadata":{"a":"1","b":"2"}}"#)
        XCTAssertEqual(try JSONDecoder().decode(ManifestSample.self, from: Data(line.utf8)), s)
        let p = ManifestProblem(file: "f.tsv", line: 3, record: 2, reason: "missing url", excerpt: "x")
        XCTAssertEqual(try JSONDecoder().decode(ManifestProblem.self, from: Data(p.jsonLine().utf8)), p)
    }

    func testJSONParserEdgeCases() throws {
        XCTAssertEqual(try JSONParser.parse(Array(#"{"a": [1, -2.5e3, true, null], "b": "\ud83d\ude00\u00e9"}"#.utf8)),
                       .object([("a", .array([.number("1"), .number("-2.5e3"), .bool(true), .null])), ("b", .string("😀é"))]))
        for bad in [#"{"a": 01}"#, #"[1,]"#, #"{"a" 1}"#, #""\ud800""#, "[1] x", "\"tab\tinside\""] {
            XCTAssertThrowsError(try JSONParser.parse(Array(bad.utf8)), bad)
        }
    }

    // MARK: Memory

    /// Peak resident memory in bytes (Linux reports ru_maxrss in KiB).
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    /// Writes a CC3M-layout TSV of `rows` rows in chunks (the writer itself stays small).
    private func writeBigTSV(rows: Int) throws -> String {
        let path = tempDir.appendingPathComponent("big.tsv").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = FileHandle(forWritingAtPath: path)!
        var chunk = ""
        for i in 0..<rows {
            chunk += "a photo of a small red bicycle leaning on a wall number \(i)\thttps://img\(i % 97).example.com/\(i).jpg\n"
            if chunk.utf8.count > 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
        handle.closeFile()
        return path
    }

    private func streamCount(_ path: String) throws -> Int {
        var reader = try openManifest(path: path, format: .cc3m)
        var n = 0
        while let r = try reader.next() {
            if case .sample = r { n += 1 }
        }
        return n
    }

    func testStreamingKeepsMemoryFlat() throws {
        let rows = 300_000
        let path = try writeBigTSV(rows: rows)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let before = Self.peakRSS()
        XCTAssertEqual(try streamCount(path), rows)
        let growth = Self.peakRSS() - before
        // The file is ~30 MB; streaming needs a couple of 1 MiB buffers.
        XCTAssertLessThan(growth, 16 << 20, "peak RSS grew by \(growth >> 20) MiB reading a \(size >> 20) MiB file")
    }

    /// The full-size check (~30 s in debug): CAPFILT_LONG_TESTS=1 swift test --filter testFullSizeCC3M
    func testFullSizeCC3M() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["CAPFILT_LONG_TESTS"] == "1", "set CAPFILT_LONG_TESTS=1")
        let rows = 3_318_333
        let path = try writeBigTSV(rows: rows)
        let start = Date()
        XCTAssertEqual(try streamCount(path), rows)
        let seconds = Date().timeIntervalSince(start)
        print("cc3m full size: \(rows) rows in \(String(format: "%.2f", seconds)) s, \(Int(Double(rows) / seconds)) rows/s, peak RSS \(Self.peakRSS() >> 20) MiB")
        XCTAssertLessThan(Self.peakRSS(), 200 << 20)
    }
}
