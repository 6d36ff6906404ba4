import Basics
import Catalog
import Export
import Foundation
import Ingest
import Pipeline

/// Reads the pipeline's manifests into the shard's catalog. Each manifest is one source with a
/// cursor (records read); a batch of rows lands with its cursor in one transaction, so a rerun
/// skips exactly what was stored. Rows of other shards are counted and left out; malformed rows
/// are recorded with file, line and reason.
final class IngestStage: SourceStage {
    struct Manifest {
        var path: String
        var format: ManifestFormat?
        var options: ManifestOptions
        var source: String
    }

    let manifests: [Manifest]
    let batchSize: Int
    /// Stages that judge a sample's texts: a sample that gains captions is offered to them again.
    let textStages: [String]

    /// The keys of one item of `manifests`, each declared once.
    enum ManifestKeys {
        static let path = StageParameter<String>.required("path", .path(mustExist: true), help: "the manifest file (or folder, for vg / sbu / webdataset)")
        static let format = StageParameter("format", .choice(["auto"] + ManifestFormat.allCases.map(\.rawValue) + ["img2dataset"]), default: "auto",
                                           help: "the manifest format; auto: detected from the file; img2dataset is webdataset")
        static let source = StageParameter<String?>.optional("source", .string, help: "source name (default: the format's)")
        static let imageRoot = StageParameter<String?>.optional("image_root", .path(mustExist: true), help: "folder of the images of a local manifest (COCO, Karpathy, VG)")
        static let companion = StageParameter<String?>.optional("companion", .path(mustExist: true), help: "a second file a format needs (e.g. VG's image data)")
        static let urlCol = StageParameter<String?>.optional("url_col", .string, help: "column holding the URL (csv / tsv / jsonl / parquet)")
        static let captionCol = StageParameter<String?>.optional("caption_col", .string, help: "column holding the caption (csv / tsv / jsonl / parquet)")
        static let origin = StageParameter<SampleOrigin?>.optional("origin", choices: SampleOrigin.self, help: "override the format's origin (human for curated captions, web for alt-text)")
        static let keyPrefix = StageParameter("key_prefix", .string, default: "", help: "prefix of every sample key")
        static let shards = StageParameter<String?>.optional(
            "shards", .string, help: "webdataset: the tar files under `path` to read, e.g. `{00000..00127}.tar` (brace ranges and lists, `*` in the name); default: every .tar in name order")

        static let all = [path.spec, format.spec, source.spec, imageRoot.spec, companion.spec, urlCol.spec, captionCol.spec,
                          origin.spec, keyPrefix.spec, shards.spec]
    }

    /// The stage's parameters, each declared once.
    enum Keys {
        static let manifests = StageParameter<[ParameterValue]>.required("manifests", .list(.object(ManifestKeys.all)), help: "the manifests to read, one source each")
        static let batchSize = StageParameter("batch_size", .int(1...1_000_000), default: 2000, affectsResults: false, help: "rows per transaction")

        static let all = [manifests.spec, batchSize.spec]
    }

    static let type = StageType(
        name: "ingest", kind: .source, summary: "Read manifests into the catalog.",
        parameters: Keys.all,
        check: { setup in try checkImageRoots(setup) },
        make: { setup in try IngestStage(setup) })

    /// An `image_root` must be a folder (validation has checked that it exists and is readable):
    /// a file there would fail every image of its manifest, one by one, at fetch.
    static func checkImageRoots(_ setup: StageSetup) throws {
        for (i, item) in setup.parameters[Keys.manifests].enumerated() {
            let o = StageParameters(values: item.objectValue ?? [:], specs: ManifestKeys.all)
            guard let root = o[ManifestKeys.imageRoot] else { continue }
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), !isFolder.boolValue {
                throw PipelineError(file: setup.pipeline.file, line: setup.definition.keyLines["manifests"] ?? setup.definition.line,
                                    key: "stages.\(setup.definition.name).manifests[\(i)].image_root", "\(root) is not a folder")
            }
        }
    }

    /// One item of a `manifests` list (or of any list declared with `ManifestKeys`): its path,
    /// the format it names (nil: auto, detected from the file) and the readers' options.
    static func manifestEntry(_ item: ParameterValue) -> (path: String, format: ManifestFormat?, options: ManifestOptions) {
        let o = StageParameters(values: item.objectValue ?? [:], specs: ManifestKeys.all)
        let formatName = o[ManifestKeys.format]
        let options = ManifestOptions(
            source: o[ManifestKeys.source], imageRoot: o[ManifestKeys.imageRoot],
            urlColumn: o[ManifestKeys.urlCol], captionColumn: o[ManifestKeys.captionCol],
            companionPath: o[ManifestKeys.companion], keyPrefix: o[ManifestKeys.keyPrefix],
            origin: o[ManifestKeys.origin], shards: o[ManifestKeys.shards])
        return (o[ManifestKeys.path], formatName == "auto" ? nil : ManifestFormat(name: formatName), options)
    }

    init(_ setup: StageSetup) throws {
        var list: [Manifest] = []
        var names: Set<String> = []
        for item in setup.parameters[Keys.manifests] {
            let (path, format, declared) = Self.manifestEntry(item)
            var options = declared
            let detected = try format ?? ManifestFormat.detect(path: path, options: options)
            let source = options.source ?? detected.defaultSource
            options.source = source
            guard names.insert(source).inserted else {
                throw PipelineError(file: setup.pipeline.file, line: setup.definition.line, key: "stages.\(setup.definition.name).manifests",
                                    "two manifests share the source name `\(source)`; give one a `source:`")
            }
            list.append(Manifest(path: path, format: detected, options: options, source: source))
        }
        manifests = list
        batchSize = setup.parameters[Keys.batchSize]
        textStages = setup.pipeline.stages.filter { $0.type.name == "filter" }.map(\.name)
    }

    func ingest(_ context: StageContext) throws {
        for manifest in manifests where !context.isCancelled {
            try ingest(manifest, context: context)
        }
    }

    private func ingest(_ m: Manifest, context: StageContext) throws {
        let source = try context.catalog.write {
            try $0.source(name: m.source, format: m.format?.rawValue ?? "auto", path: m.path)
        }
        var reader = try openManifest(path: m.path, format: m.format, options: m.options)
        var record = 0
        if var r = reader as? any ResumableManifestReader, let position = source.position {
            // Shards: start where the last batch ended, without reading anything before it.
            try r.resume(at: position)
            reader = r
            record = source.recordsDone
        } else {
            // Skip what earlier runs stored (readers are deterministic: same file, same records).
            while record < source.recordsDone, try reader.next() != nil { record += 1 }
        }

        var samples: [NewSample] = []
        var problems: [NewProblem] = []
        var inBatch = 0
        func flush() throws {
            guard inBatch > 0 else { return }
            let (s, p, done) = (samples, problems, record)
            let position = (reader as? any ResumableManifestReader)?.position
            let inserted = try context.catalog.write { session -> Int in
                var n = 0
                for sample in s {
                    switch try session.insertSample(sample, sourceID: source.id) {
                    case .inserted: n += 1
                    case .merged(let id): try session.resetProgress(sampleID: id, stages: self.textStages)
                    case .unchanged: break
                    }
                }
                for problem in p { try session.insertProblem(problem, sourceID: source.id) }
                try session.advanceSource(source.id, recordsDone: done, position: position, newSamples: n, newProblems: p.count)
                return n
            }
            context.progress.addDone(inserted, failed: p.count)
            samples.removeAll(keepingCapacity: true)
            problems.removeAll(keepingCapacity: true)
            inBatch = 0
        }
        while let next = try reader.next() {
            record += 1
            inBatch += 1
            switch next {
            case .sample(let s):
                if context.shard.owns(source: s.source, key: s.key) {
                    samples.append(NewSample(key: s.key, url: s.url, localPath: s.localPath, origin: TextOrigin(rawValue: s.origin.rawValue)!,
                                             metadata: metadataJSON(s.metadata), captions: s.captions,
                                             memberOffset: s.member?.offset, memberSize: s.member?.size, sourceFailure: s.sourceFailure))
                }
            case .malformed(let p):
                // Problems are kept by shard 0 only, so a scale-out run records each once.
                if context.shard.index == 0 {
                    problems.append(NewProblem(record: record, file: p.file, line: p.line, row: p.record, rowGroup: p.rowGroup,
                                               reason: p.reason, excerpt: p.excerpt))
                }
            }
            if inBatch >= batchSize {
                try flush()
                if context.isCancelled { return }
            }
        }
        try flush()
    }
}

/// Metadata as a JSON object with sorted keys (stable bytes for the same row).
func metadataJSON(_ metadata: [String: String]) -> String {
    guard !metadata.isEmpty else { return "{}" }
    return DeterministicJSON().encode(.object(metadata.mapValues { .string($0) }))
}
