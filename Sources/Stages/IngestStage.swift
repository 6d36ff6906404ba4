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

    static let manifestKeys: [ParameterSpec] = [
        ParameterSpec("path", .path(mustExist: true), help: "the manifest file (or folder, for vg / sbu)"),
        ParameterSpec("format", .choice(["auto"] + ManifestFormat.allCases.map(\.rawValue)), default: .string("auto")),
        ParameterSpec("source", .string, optional: true, help: "source name (default: the format's)"),
        ParameterSpec("image_root", .path(mustExist: true), optional: true),
        ParameterSpec("companion", .path(mustExist: true), optional: true),
        ParameterSpec("url_col", .string, optional: true),
        ParameterSpec("caption_col", .string, optional: true),
        ParameterSpec("origin", .choice(["human", "web"]), optional: true),
        ParameterSpec("key_prefix", .string, default: .string("")),
    ]

    static let type = StageType(
        name: "ingest", kind: .source, summary: "Read manifests into the catalog.",
        parameters: [
            ParameterSpec("manifests", .list(.object(manifestKeys))),
            ParameterSpec("batch_size", .int(1...1_000_000), default: .int(2000), affectsResults: false),
        ],
        make: { setup in try IngestStage(setup) })

    init(_ setup: StageSetup) throws {
        var list: [Manifest] = []
        var names: Set<String> = []
        for item in setup.parameters.list("manifests") {
            let o = item.objectValue ?? [:]
            let path = o["path"]?.stringValue ?? ""
            let formatName = o["format"]?.stringValue ?? "auto"
            let format = formatName == "auto" ? nil : ManifestFormat(name: formatName)
            var options = ManifestOptions(
                source: o["source"]?.stringValue, imageRoot: o["image_root"]?.stringValue,
                urlColumn: o["url_col"]?.stringValue, captionColumn: o["caption_col"]?.stringValue,
                companionPath: o["companion"]?.stringValue, keyPrefix: o["key_prefix"]?.stringValue ?? "",
                origin: o["origin"]?.stringValue.flatMap(SampleOrigin.init(rawValue:)))
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
        batchSize = setup.parameters.int("batch_size") ?? 2000
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
        // Skip what earlier runs stored (readers are deterministic: same file, same records).
        while record < source.recordsDone, try reader.next() != nil { record += 1 }

        var samples: [NewSample] = []
        var problems: [NewProblem] = []
        var inBatch = 0
        func flush() throws {
            guard inBatch > 0 else { return }
            let (s, p, done) = (samples, problems, record)
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
                try session.advanceSource(source.id, recordsDone: done, newSamples: n, newProblems: p.count)
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
                    samples.append(NewSample(key: s.key, url: s.url, localPath: s.localPath, origin: s.origin.rawValue,
                                             metadata: metadataJSON(s.metadata), captions: s.captions))
                }
            case .malformed(let p):
                // Problems are kept by shard 0 only, so a scale-out run records each once.
                if context.shard.index == 0 {
                    problems.append(NewProblem(record: record, file: p.file, line: p.line, rowGroup: p.rowGroup,
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
