/// Where `DemoDataWriter` puts each file under the output folder (docs/demo.md):
///
///     dataset.json                              what was generated: options, counts per noise kind
///     coco/annotations/captions_train2017.json  human split, COCO 2017 layout
///     coco/annotations/captions_val2017.json    human validation split
///     coco/train2017/000000000001.jpg ...       (image root of the train manifest)
///     coco/val2017/...                          (image root of the val manifest)
///     cc3m/Train_GCC-training.tsv               web split: caption<TAB>url, no header
///     cc3m/noise_labels.json                    per web row: kind, alt-text, true caption
///     www/web/00000.jpg ...                     the loopback server's root
///     test/coco_karpathy_test.json              clean test split, Karpathy layout
///     test/images/00000.jpg ...
///     attributes/{human,validation,web,test}.jsonl   every image's scene
///     attributes/web_facts.jsonl                what a caption of each web image must say (and must not)
///     labelled/labels.json                      [{"image": "images/00000.jpg", "label": "circle top"}, ...]
///     labelled/images/00000.jpg ...             images labelled with shape and position
///     audit/web_audit.json                      [{"image": "images/00000.jpg", "caption": ..., "match": false, ...}]
///     audit/images/00000.jpg ...                an audited sample of web-like pairs (filter threshold)
///     contamination/planted.json                [{"web_key": "3000", "test_image": "images/00123.jpg", ...}]: test images planted in the web split
public struct DemoDataLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) { self.root = root }

    public var summary: String { path("dataset.json") }
    public var humanManifest: String { path("coco/annotations/captions_train2017.json") }
    public var humanImageRoot: String { path("coco/train2017") }
    public var validationManifest: String { path("coco/annotations/captions_val2017.json") }
    public var validationImageRoot: String { path("coco/val2017") }
    public var webManifest: String { path("cc3m/Train_GCC-training.tsv") }
    public var noiseLabels: String { path("cc3m/noise_labels.json") }
    /// The planted semantic duplicates: `[{original, variant, changes}]`, CC3M row keys.
    public var semanticPairs: String { path("semantic/planted_pairs.json") }
    /// The folder the loopback server serves; web image URLs are `/web/NNNNN.jpg` under it.
    public var servedRoot: String { path("www") }
    public var testManifest: String { path("test/coco_karpathy_test.json") }
    /// The test manifest's folder: its `image` paths are relative to it.
    public var testImageRoot: String { path("test") }

    public func attributes(_ split: DemoDataset.Split) -> String { path("attributes/\(split.rawValue).jsonl") }
    /// Per web row, the facts a caption of its image must state and must not contradict.
    public var webFacts: String { path("attributes/web_facts.jsonl") }
    /// The labelled split's list; its `image` paths are relative to its folder.
    public var labelledList: String { path("labelled/labels.json") }

    /// The audit sample's list; its `image` paths are relative to its folder.
    public var auditList: String { path("audit/web_audit.json") }

    /// Which web rows are edited copies of test images (`DemoDataset.planted`).
    public var plantedCopies: String { path("contamination/planted.json") }

    public static func auditFileName(_ index: Int, rows: Int) -> String { "images/" + numbered(index, of: rows) + ".jpg" }

    public static func labelledFileName(_ index: Int, images: Int) -> String { "images/" + numbered(index, of: images) + ".jpg" }

    /// The URL path of web row `index`.
    public static func webPath(_ index: Int, rows: Int) -> String { "/web/" + numbered(index, of: rows) + ".jpg" }

    /// File name of a COCO image id, as COCO 2017 names them.
    public static func cocoFileName(_ id: Int) -> String { padded(id, width: 12) + ".jpg" }

    public static func testFileName(_ index: Int, images: Int) -> String { "images/" + numbered(index, of: images) + ".jpg" }

    /// Item `index` of `count`, zero-padded to at least five digits (more when the count needs them).
    static func numbered(_ index: Int, of count: Int) -> String {
        padded(index, width: max(5, String(max(count - 1, 0)).count))
    }

    static func padded(_ n: Int, width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    private func path(_ relative: String) -> String { root + "/" + relative }
}
