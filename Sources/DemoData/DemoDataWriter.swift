import Basics
import Dispatch
import Foundation
import Imaging

public struct DemoDataError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Renders the images and writes every file of a `DemoDataset` (layout: `DemoDataLayout`).
/// Everything written is a function of the options alone: the same seed gives the same bytes.
public enum DemoDataWriter {
    /// Names what this generator writes; a folder written by an earlier one is written again
    /// (3: planted semantic duplicates and test-image copies, each web image's caption facts).
    public static let generator = "capfilt DemoData 3"

    /// COCO image ids: training images are 1...N, validation images follow.
    public static func humanImageID(_ index: Int) -> Int { index + 1 }
    public static func validationImageID(_ index: Int, options: DemoDataOptions) -> Int { options.humanImages + index + 1 }

    /// Writes the whole benchmark under `root` (created if missing; files are replaced).
    @discardableResult
    public static func write(_ dataset: DemoDataset, to root: String) throws -> DemoDataLayout {
        let layout = DemoDataLayout(root: root)
        let o = dataset.options
        for dir in [
            "coco/annotations", "coco/train2017", "coco/val2017", "cc3m", "www/web", "test/images", "attributes", "labelled/images", "audit/images", "contamination", "semantic",
        ] {
            try makeDirectory(root + "/" + dir)
        }
        try writeImages(dataset, layout: layout)
        try writeText(cocoJSON(dataset.human, ids: humanImageID, options: o, year: 2017, split: "train"), to: layout.humanManifest)
        try writeText(
            cocoJSON(dataset.validation, ids: { validationImageID($0, options: o) }, options: o, year: 2017, split: "val"),
            to: layout.validationManifest)
        try writeWebManifest(dataset, port: o.webPort, layout: layout)
        try writeText(noiseLabelsJSON(dataset), to: layout.noiseLabels)
        try writeText(semanticPairsJSON(dataset), to: layout.semanticPairs)
        try writeText(karpathyJSON(dataset.test, options: o), to: layout.testManifest)
        try writeText(attributesJSONL(dataset, .human), to: layout.attributes(.human))
        try writeText(attributesJSONL(dataset, .validation), to: layout.attributes(.validation))
        try writeText(attributesJSONL(dataset, .web), to: layout.attributes(.web))
        try writeText(attributesJSONL(dataset, .test), to: layout.attributes(.test))
        try writeText(CaptionFactsWriter.webFactsJSONL(dataset), to: layout.webFacts)
        try writeText(labelsJSON(dataset), to: layout.labelledList)
        try writeText(auditJSON(dataset), to: layout.auditList)
        try writeText(summaryJSON(dataset), to: layout.summary)
        try writeText(plantedJSON(dataset), to: layout.plantedCopies)
        return layout
    }

    /// (Re)writes only the web manifest, for a server that got another port.
    public static func writeWebManifest(_ dataset: DemoDataset, port: UInt16, layout: DemoDataLayout) throws {
        try writeText(webTSV(dataset, port: port), to: layout.webManifest)
    }

    /// The web manifest: `alt-text<TAB>http://127.0.0.1:PORT/web/NNNNN.jpg`, no header.
    public static func webTSV(_ dataset: DemoDataset, port: UInt16) -> String {
        var out = ""
        for row in dataset.web {
            // Alt-text never holds tabs or newlines; the TSV stays two columns a line.
            out += row.altText + "\t" + "http://127.0.0.1:\(port)" + DemoDataLayout.webPath(row.index, rows: dataset.web.count) + "\n"
        }
        return out
    }

    /// The rendered image of one item (the same pixels `write` encodes).
    public static func image(_ dataset: DemoDataset, _ split: DemoDataset.Split, _ index: Int) -> RGBImage {
        let scene: SceneAttributes
        switch split {
        case .human: scene = dataset.human[index].scene
        case .validation: scene = dataset.validation[index].scene
        case .web:
            if let copy = dataset.plantedCopy(webIndex: index) { return copy.apply(to: image(dataset, .test, copy.testIndex)) }
            scene = dataset.web[index].scene
        case .test: scene = dataset.test[index].scene
        }
        if split == .web, let pair = dataset.semanticPairs.first(where: { $0.variant == index }) {
            return SemanticDuplicatePlanting.image(pair, original: image(dataset, .web, pair.original), scene: scene,
                                                   options: dataset.options)
        }
        var rng = DemoDataset.pixelStream(dataset.options, split, index)
        return SceneRenderer.render(scene, size: dataset.options.imageSize, rng: &rng)
    }

    /// Path of an item's JPEG under the layout.
    public static func imagePath(_ dataset: DemoDataset, _ split: DemoDataset.Split, _ index: Int, layout: DemoDataLayout) -> String {
        switch split {
        case .human: return layout.humanImageRoot + "/" + DemoDataLayout.cocoFileName(humanImageID(index))
        case .validation:
            return layout.validationImageRoot + "/" + DemoDataLayout.cocoFileName(validationImageID(index, options: dataset.options))
        case .web: return layout.servedRoot + DemoDataLayout.webPath(index, rows: dataset.web.count)
        case .test: return layout.testImageRoot + "/" + DemoDataLayout.testFileName(index, images: dataset.test.count)
        }
    }

    /// The rendered image of one labelled item.
    public static func labelledImage(_ dataset: DemoDataset, _ index: Int) -> RGBImage {
        var rng = DemoDataset.pixelStream(dataset.options, stream: DemoDataset.labelledStream, index)
        return SceneRenderer.render(dataset.labelled[index].scene, size: dataset.options.imageSize, rng: &rng)
    }

    /// The rendered image of one row of the audit sample.
    public static func auditImage(_ dataset: DemoDataset, _ index: Int) -> RGBImage {
        var rng = DemoDataset.pixelStream(dataset.options, stream: DemoDataset.auditStream, index)
        return SceneRenderer.render(dataset.audit[index].scene, size: dataset.options.imageSize, rng: &rng)
    }

    /// One image to render and where it goes.
    private enum ImageJob {
        case split(DemoDataset.Split, Int)
        case labelled(Int)
        case audit(Int)
    }

    private static func writeImages(_ dataset: DemoDataset, layout: DemoDataLayout) throws {
        let jobs: [ImageJob] =
            dataset.human.indices.map { .split(.human, $0) } + dataset.validation.indices.map { .split(.validation, $0) }
            + dataset.web.indices.map { .split(.web, $0) } + dataset.test.indices.map { .split(.test, $0) }
            + dataset.labelled.indices.map { .labelled($0) } + dataset.audit.indices.map { .audit($0) }
        let labelledFolder = (layout.labelledList as NSString).deletingLastPathComponent
        let auditFolder = (layout.auditList as NSString).deletingLastPathComponent
        let failures = Locked<[String]>([])
        let chunk = 64
        let chunks = (jobs.count + chunk - 1) / chunk
        // Images are independent (each has its own random stream), so any order gives the same bytes.
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for job in jobs[(c * chunk)..<min(jobs.count, (c + 1) * chunk)] {
                let (pixels, path): (RGBImage, String)
                var quality = dataset.options.jpegQuality
                switch job {
                case .split(let split, let index):
                    (pixels, path) = (image(dataset, split, index), imagePath(dataset, split, index, layout: layout))
                    if split == .web, let copy = dataset.plantedCopy(webIndex: index) { quality = copy.jpegQuality }
                case .labelled(let index):
                    (pixels, path) = (labelledImage(dataset, index),
                                      labelledFolder + "/" + DemoDataLayout.labelledFileName(index, images: dataset.labelled.count))
                case .audit(let index):
                    (pixels, path) = (auditImage(dataset, index),
                                      auditFolder + "/" + DemoDataLayout.auditFileName(index, rows: dataset.audit.count))
                }
                do {
                    try writeBytes(try ImageEncoder.jpeg(pixels, quality: quality), to: path)
                } catch {
                    failures.withLock { $0.append("\(path): \(error)") }
                }
            }
        }
        if let first = failures.current.first { throw DemoDataError(description: first) }
    }

    // MARK: manifests

    static func cocoJSON(
        _ images: [DemoDataset.AnnotatedImage], ids: (Int) -> Int, options: DemoDataOptions, year: Int, split: String
    ) -> String {
        let info = JSONText.object([
            ("description", JSONText.string("capfilt demo scenes, \(split) split (COCO \(year) layout)")),
            ("version", JSONText.string("1.0")), ("year", String(year)),
            ("contributor", JSONText.string("capfilt DemoData, seed \(options.seed)")),
            ("date_created", JSONText.string("2017/09/01")),
        ])
        let licenses = JSONText.array([
            JSONText.object([("url", JSONText.string("")), ("id", "1"), ("name", JSONText.string("generated, no restrictions"))])
        ])
        var imageEntries: [String] = []
        var annotations: [String] = []
        var annotationID = ids(0) * 10
        for image in images {
            let id = ids(image.index)
            imageEntries.append(JSONText.object([
                ("license", "1"), ("file_name", JSONText.string(DemoDataLayout.cocoFileName(id))),
                ("height", String(options.imageSize)), ("width", String(options.imageSize)),
                ("date_captured", JSONText.string("2017-01-01 00:00:00")), ("id", String(id)),
            ]))
            for caption in image.captions {
                annotations.append(JSONText.object([
                    ("image_id", String(id)), ("id", String(annotationID)), ("caption", JSONText.string(caption)),
                ]))
                annotationID += 1
            }
        }
        return "{\n\"info\": " + info + ",\n\"licenses\": " + licenses + ",\n\"images\": "
            + JSONText.array(imageEntries, multiline: true) + ",\n\"annotations\": "
            + JSONText.array(annotations, multiline: true) + "\n}\n"
    }

    static func karpathyJSON(_ images: [DemoDataset.AnnotatedImage], options: DemoDataOptions) -> String {
        JSONText.array(images.map { image in
            JSONText.object([
                ("image", JSONText.string(DemoDataLayout.testFileName(image.index, images: images.count))),
                ("caption", JSONText.array(image.captions.map(JSONText.string))),
            ])
        }, multiline: true) + "\n"
    }

    static func noiseLabelsJSON(_ dataset: DemoDataset) -> String {
        JSONText.array(dataset.web.map { row in
            JSONText.object([
                ("key", JSONText.string(String(row.index))),
                ("url_path", JSONText.string(DemoDataLayout.webPath(row.index, rows: dataset.web.count))),
                ("kind", JSONText.string(row.kind.rawValue)),
                ("changed", row.changed.map { JSONText.string($0.rawValue) } ?? "null"),
                ("swapped_with", row.swappedWith.map { String($0) } ?? "null"),
                ("alt_text", JSONText.string(row.altText)),
                ("true_caption", JSONText.string(row.trueCaption)),
            ])
        }, multiline: true) + "\n"
    }

    static func semanticPairsJSON(_ dataset: DemoDataset) -> String {
        JSONText.array(dataset.semanticPairs.map { pair in
            JSONText.object([
                ("original", JSONText.string(String(pair.original))), ("variant", JSONText.string(String(pair.variant))),
                ("changes", JSONText.array(pair.changes.map { JSONText.string($0.rawValue) })),
            ])
        }, multiline: true) + "\n"
    }

    static func attributesJSONL(_ dataset: DemoDataset, _ split: DemoDataset.Split) -> String {
        func line(key: String, file: String, scene: SceneAttributes, captions: [String]) -> String {
            JSONText.object([
                ("key", JSONText.string(key)), ("file", JSONText.string(file)),
                ("shape", JSONText.string(scene.shape.rawValue)), ("colour", JSONText.string(scene.colour.rawValue)),
                ("count", String(scene.count)), ("size", JSONText.string(scene.size.rawValue)),
                ("position", JSONText.string(scene.position.rawValue)), ("texture", JSONText.string(scene.texture.rawValue)),
                ("background", JSONText.string(scene.background.rawValue)),
                ("captions", JSONText.array(captions.map(JSONText.string))),
            ]) + "\n"
        }
        let o = dataset.options
        switch split {
        case .human:
            return dataset.human.map {
                let id = humanImageID($0.index)
                return line(key: String(id), file: "coco/train2017/" + DemoDataLayout.cocoFileName(id), scene: $0.scene, captions: $0.captions)
            }.joined()
        case .validation:
            return dataset.validation.map {
                let id = validationImageID($0.index, options: o)
                return line(key: String(id), file: "coco/val2017/" + DemoDataLayout.cocoFileName(id), scene: $0.scene, captions: $0.captions)
            }.joined()
        case .web:
            return dataset.web.map {
                line(key: String($0.index), file: "www" + DemoDataLayout.webPath($0.index, rows: dataset.web.count),
                     scene: $0.scene, captions: [$0.trueCaption])
            }.joined()
        case .test:
            return dataset.test.map {
                let file = DemoDataLayout.testFileName($0.index, images: dataset.test.count)
                return line(key: file, file: "test/" + file, scene: $0.scene, captions: $0.captions)
            }.joined()
        }
    }

    /// The labelled split: `[{"image": "images/NNNNN.jpg", "label": "shape position"}]`, what a
    /// pretrain_vision stage reads.
    static func labelsJSON(_ dataset: DemoDataset) -> String {
        JSONText.array(dataset.labelled.map {
            JSONText.object([
                ("image", JSONText.string(DemoDataLayout.labelledFileName($0.index, images: dataset.labelled.count))),
                ("label", JSONText.string($0.label)),
            ])
        }, multiline: true) + "\n"
    }

    /// The audit sample: `[{"image": "images/00000.jpg", "caption": ..., "match": true|false,
    /// "kind": ..., "changed": ...}]`, what a filter stage's `calibrate_on` reads.
    static func auditJSON(_ dataset: DemoDataset) -> String {
        JSONText.array(dataset.audit.map { row in
            JSONText.object([
                ("image", JSONText.string(DemoDataLayout.auditFileName(row.index, rows: dataset.audit.count))),
                ("caption", JSONText.string(row.altText)),
                ("match", row.kind == .clean ? "true" : "false"),
                ("kind", JSONText.string(row.kind.rawValue)),
                ("changed", row.changed.map { JSONText.string($0.rawValue) } ?? "null"),
            ])
        }, multiline: true) + "\n"
    }

    /// The planted copies: `[{"web_key", "url_path", "test_image", "edit", "jpeg_quality"}]`.
    static func plantedJSON(_ dataset: DemoDataset) -> String {
        JSONText.array(dataset.planted.map { copy in
            JSONText.object([
                ("web_key", JSONText.string(String(copy.webIndex))),
                ("url_path", JSONText.string(DemoDataLayout.webPath(copy.webIndex, rows: dataset.web.count))),
                ("test_image", JSONText.string(DemoDataLayout.testFileName(copy.testIndex, images: dataset.test.count))),
                ("edit", JSONText.string(copy.edit.description)),
                ("jpeg_quality", String(copy.jpegQuality)),
            ])
        }, multiline: true) + "\n"
    }

    static func summaryJSON(_ dataset: DemoDataset) -> String {
        let o = dataset.options
        var kinds: [(String, String)] = []
        for kind in NoiseKind.allCases {
            kinds.append((kind.rawValue, String(dataset.web.filter { $0.kind == kind }.count)))
        }
        return JSONText.object([
            ("generator", JSONText.string(generator)),
            ("seed", String(o.seed)), ("image_size", String(o.imageSize)),
            ("human_images", String(o.humanImages)), ("validation_images", String(o.humanValidationImages)),
            ("web_images", String(o.webImages)), ("test_images", String(o.testImages)),
            ("labelled_images", String(o.labelledImages)), ("audit_rows", String(o.auditRows)),
            ("captions_per_image", String(o.captionsPerImage)), ("web_port", String(o.webPort)),
            ("jpeg_quality", String(o.jpegQuality)),
            ("max_objects", String(o.variety.maxObjects)), ("textures", o.variety.textures ? "true" : "false"),
            ("web_rows_by_kind", JSONText.object(kinds)),
            ("planted_test_copies", String(dataset.planted.count)),
        ]) + "\n"
    }

    // MARK: files

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DemoDataError(description: "cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func writeText(_ text: String, to path: String) throws {
        try writeBytes(Array(text.utf8), to: path)
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        do {
            try DurableFile.write(bytes, to: path, durable: false)
        } catch {
            throw DemoDataError(description: "cannot write \(path): \(error)")
        }
    }
}
