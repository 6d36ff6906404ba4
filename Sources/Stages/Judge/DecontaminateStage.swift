import Basics
import Catalog
import Decontamination
import Foundation
import Imaging
import Ingest
import MED
import Pipeline
import Tensor

/// Removes training images that are copies of evaluation images, as DataComp does for its
/// evaluation sets: a model evaluated on images it was trained on measures memory. Each
/// evaluation set is a manifest (any format `ingest` reads, images local) or a folder of images.
/// A training image is contaminated when
/// - exact: its bytes are an evaluation image's (SHA-256);
/// - phash: its perceptual hash (stored by `decode`) is within `radius` bits of one;
/// - cosine (`cosine` given): its normalised ITC image embedding (kept by the filter upstream)
///   has at least that cosine with an evaluation image's, embedded by the same filter's model;
/// - residual (`residual` given): among the `candidates` evaluation images of closest layout, one
///   whose fine texture correlates with its own at least that much (an edited copy: re-encoded,
///   slightly cropped, rescaled, brightened; `CopyVerifier`).
/// A contaminated sample ends the stage with status `contaminated` and a reason naming the
/// method, the distance and the evaluation image, so no stage downstream takes it and
/// `assemble` leaves it out wherever the stage sits. The matching lives in `Decontamination`.
final class DecontaminateStage: SampleStage {
    let batchSize: Int
    let exact: Bool
    let radius: Int?
    let cosine: Double?
    let residual: Double?
    let candidates: Int
    private let sets: [(name: String, source: EvaluationSetSource)]
    private let setup: StageSetup
    /// Built on first use, not when the run is built: an up-to-date stage reads no evaluation image.
    private var index: EvaluationIndex?
    private var embeddings: EmbeddingMatcher?
    private var verifier: CopyVerifier?
    /// The filter's kept image embedding of each sample of this shard (the last row of each).
    private var trainingEmbeddings: [Int64: [Float]]?

    /// The keys of one item of `eval_sets`: a manifest, declared as `ingest` declares one, or a folder.
    enum EvalSetKeys {
        typealias M = IngestStage.ManifestKeys
        static let name = StageParameter<String?>.optional("name", .string, help: "the set's name in reasons and the report (default: the file or folder's base name)")

        static let all = [
            StageParameter<String>.required("path", .path(mustExist: true), help: "a manifest of local images, or a folder of images (read recursively)").spec,
            M.format.spec, M.imageRoot.spec, M.urlCol.spec, M.captionCol.spec, M.companion.spec, name.spec,
        ]
    }

    /// The stage's parameters, each declared once.
    enum Keys {
        static let evalSets = StageParameter<[ParameterValue]>.required(
            "eval_sets", .list(.object(EvalSetKeys.all)), help: "the evaluation sets whose images are removed from the training data")
        static let exact = StageParameter("exact", .bool, default: true, help: "drop training images whose bytes are an evaluation image's (SHA-256)")
        // Off unless asked for: on the demo's renders, distinct images of one layout share a pHash
        // (docs/pipeline.md), so a default radius would remove clean images.
        static let phash = StageParameter("phash", .bool, default: false, help: "drop training images whose perceptual hash is within `radius` bits of an evaluation image's (images of one coarse layout can share a hash: check on your data)")
        static let radius = StageParameter("radius", .int(0...32), default: 4, help: "Hamming radius of a phash match",
                                           appliesWhen: .when(phash, in: [true], "true"))
        static let cosine = StageParameter<Double?>.optional(
            "cosine", .double(-1...1),
            help: "drop training images whose ITC image embedding has at least this cosine with an evaluation image's (needs a filter upstream keeping `embeddings`; the evaluation images are embedded with its model)")
        static let residual = StageParameter<Double?>.optional(
            "residual", .double(0...1),
            help: "drop training images that are edited copies (re-encoded, slightly cropped, rescaled, brightened): residual correlation with one of the `candidates` evaluation images of closest layout at least this (0.15 on the demo: copies score above 0.2, look-alikes below 0.1)")
        static let candidates = StageParameter("candidates", .int(1...256), default: 8,
                                               help: "evaluation images of closest layout checked by residual correlation per training image")
        static let batchSize = StageParameter("batch_size", .int(1...100_000), default: 1024, affectsResults: false,
                                              help: "samples judged per transaction")

        static let all = [evalSets.spec, exact.spec, phash.spec, radius.spec, cosine.spec, residual.spec, candidates.spec, batchSize.spec]
    }

    static let type = StageType(
        name: "decontaminate", kind: .perSample, summary: "Remove training images found in evaluation sets (exact, pHash, embedding cosine, residual correlation).",
        parameters: Keys.all,
        requires: ["decode"],
        // What the sets hold, not where they are, decides what is dropped.
        fingerprintInputs: { p in
            try evaluationSets(p).map { set in
                let listed = try EvaluationSet(name: set.name, source: set.source)
                return "eval_set=\(set.name):" + listed.contentDigest(fileDigest: { try FileDigest.sha256(path: $0) })
            }
        },
        check: { setup in try check(setup) },
        // Removing what an evaluation set holds is no failure of the source.
        checksFailureShare: false,
        make: { setup in try DecontaminateStage(setup) })

    /// The evaluation sets as declared: a folder (format auto) is a folder of images; anything
    /// else is a manifest, its format named or detected as `ingest` detects it.
    static func evaluationSets(_ p: StageParameters) throws -> [(name: String, source: EvaluationSetSource)] {
        try p[Keys.evalSets].map { item in
            let (path, format, options) = IngestStage.manifestEntry(item)
            let named = StageParameters(values: item.objectValue ?? [:], specs: EvalSetKeys.all)[EvalSetKeys.name]
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            let source: EvaluationSetSource = isFolder.boolValue && format == nil
                ? .folder(path: path)
                : .manifest(path: path, format: try format ?? ManifestFormat.detect(path: path, options: options), options: options)
            return (named ?? EvaluationSet.defaultName(path: path), source)
        }
    }

    /// Names are unique (they label reasons and the report), at least one method is on, and
    /// cosine has a filter upstream.
    static func check(_ setup: StageSetup) throws {
        let p = setup.parameters
        func fail(_ key: String, _ problem: String) -> PipelineError {
            PipelineError(file: setup.pipeline.file, line: setup.definition.keyLines[key] ?? setup.definition.line,
                          key: "stages.\(setup.definition.name).\(key)", problem)
        }
        var names: Set<String> = []
        for set in try evaluationSets(p) where !names.insert(set.name).inserted {
            throw fail(Keys.evalSets.spec.name, "two evaluation sets are named `\(set.name)`; give one a `name:`")
        }
        if !p[Keys.exact] && !p[Keys.phash] && p[Keys.cosine] == nil && p[Keys.residual] == nil {
            throw fail(Keys.exact.spec.name, "every method is off: set `exact` or `phash` to true, or give `cosine` or `residual`")
        }
        if p[Keys.cosine] != nil, filterUpstream(setup) == nil {
            throw fail(Keys.cosine.spec.name, "needs a `filter` stage upstream (its image embeddings and model; add it to `needs`)")
        }
    }

    /// The nearest filter stage upstream (the last in pipeline order).
    static func filterUpstream(_ setup: StageSetup) -> StageDefinition? {
        let ancestors = setup.pipeline.ancestors(of: setup.definition.name)
        return setup.pipeline.stages.last { ancestors.contains($0.name) && $0.type.name == "filter" }
    }

    init(_ setup: StageSetup) throws {
        try Self.check(setup)
        let p = setup.parameters
        self.setup = setup
        batchSize = p[Keys.batchSize]
        exact = p[Keys.exact]
        radius = p[Keys.phash] ? p[Keys.radius] : nil
        cosine = p[Keys.cosine]
        residual = p[Keys.residual]
        candidates = p[Keys.candidates]
        sets = try Self.evaluationSets(p)
    }

    /// The index of every evaluation image, built once per run; its unreadable images logged.
    private func evaluationIndex(_ context: StageContext) throws -> EvaluationIndex {
        if let index { return index }
        let started = Date()
        let built = EvaluationIndex.build(try sets.map { try EvaluationSet(name: $0.name, source: $0.source) }, radius: radius,
                                          signatures: residual != nil)
        context.logger.info("\(context.name): \(built.images.count) evaluation images indexed in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        if !built.unreadable.isEmpty {
            let first = built.unreadable.prefix(3).map { "\($0.evalSet):\($0.name) (\($0.reason))" }.joined(separator: ", ")
            context.logger.warning("\(context.name): \(built.unreadable.count) evaluation images unreadable, left out: \(first)\(built.unreadable.count > 3 ? ", ..." : "")")
        }
        index = built
        return built
    }

    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch {
        let index = try evaluationIndex(context)
        let (phashes, blobs): ([Int64: UInt64], [Int64: String]) = try context.catalog.read { session in
            var phashes: [Int64: UInt64] = [:], blobs: [Int64: String] = [:]
            for s in samples {
                guard let sha = s.imageSHA256, let image = try session.image(sha256: sha) else { continue }
                if let phash = image.phash { phashes[s.id] = phash }
                blobs[s.id] = image.blobPath
            }
            return (phashes, blobs)
        }
        let matcher = try cosine == nil ? nil : embeddingMatcher(index: index, context: context)
        let training = try cosine == nil ? [:] : trainingImageEmbeddings(context)
        var marks: [ProgressMark] = []
        var found: [Int64: ContaminationMatch] = [:]
        for s in samples {
            var match = index.match(sha256: s.imageSHA256, phash: phashes[s.id], exact: exact)
            if match == nil, let matcher, let vector = training[s.id] { match = matcher.match(vector) }
            if let match { found[s.id] = match }
        }
        if let verifier = copyVerifier(index: index, context: context) {
            let unmatched = samples.filter { found[$0.id] == nil }
            let signatures = Self.signatures(unmatched.map { blobs[$0.id] })
            for (s, match) in zip(unmatched, verifier.match(signatures)) where match != nil { found[s.id] = match }
        }
        for s in samples {
            if let match = found[s.id] {
                marks.append(ProgressMark(sampleID: s.id, status: .contaminated, reason: match.reason))
            } else {
                marks.append(.ok(s.id))
            }
        }
        let stage = context.name, fingerprint = context.fingerprint
        return StageBatch(marks: marks) { session in
            for s in samples {
                let record = found[s.id].map {
                    ContaminationRecord(sampleID: s.id, evalSet: $0.evalSet, evalImage: $0.evalImage, method: $0.method.rawValue,
                                        distance: $0.distance)
                }
                try session.replaceContamination(stage: stage, fingerprint: fingerprint, sampleID: s.id, record)
            }
        }
    }

    /// The residual matcher over the indexed evaluation images, when `residual` is on.
    private func copyVerifier(index: EvaluationIndex, context: StageContext) -> CopyVerifier? {
        guard let residual else { return nil }
        if let verifier { return verifier }
        setEngineThreads(context.threads)
        let signed = index.images.filter { $0.signature != nil }
        let built = CopyVerifier(images: signed.map { ($0.evalSet, $0.name) }, signatures: signed.map { $0.signature! },
                                 threshold: Float(residual), candidates: candidates)
        verifier = built
        return built
    }

    /// Each stored image's copy signature (nil: no image, or it no longer decodes), on all cores.
    static func signatures(_ paths: [String?]) -> [CopySignature?] {
        let out = Locked([CopySignature?](repeating: nil, count: paths.count))
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            guard let path = paths[i], let pixels = try? ImageDecoder.decode(contentsOf: path) else { return }
            let signature = CopySignature(pixels)
            out.withLock { $0[i] = signature }
        }
        return out.current
    }

    /// The filter's kept image embeddings of this shard's samples (read once per run).
    private func trainingImageEmbeddings(_ context: StageContext) throws -> [Int64: [Float]] {
        if let trainingEmbeddings { return trainingEmbeddings }
        guard let filter = context.upstream(type: "filter") else { return [:] }
        let folder = context.workspace.embeddingFolder(context.shard, stage: filter.name)
        var out: [Int64: [Float]] = [:]
        if FileManager.default.fileExists(atPath: folder + "/meta.json") {
            // The last row of each sample: a batch the filter ran again appended its rows again.
            let stored = try EmbeddingStore(existing: folder).latestRows(.image)
            let d = stored.dimension
            for (k, id) in stored.ids.enumerated() { out[id] = Array(stored.values[(k * d)..<((k + 1) * d)]) }
        } else {
            context.logger.warning("\(context.name): the filter `\(filter.name)` kept no embeddings (its `embeddings: none`?): cosine matches nothing")
        }
        trainingEmbeddings = out
        return out
    }

    /// The evaluation images embedded with the filter's model, from the workdir's cache when the
    /// same sets were embedded with the same model before.
    private func embeddingMatcher(index: EvaluationIndex, context: StageContext) throws -> EmbeddingMatcher {
        if let embeddings { return embeddings }
        guard let filterDefinition = Self.filterUpstream(setup), let cosine else {
            throw StageFailure(.config, "cosine needs a filter stage upstream")
        }
        let folder = try StageModelReference.modelFolder(of: filterDefinition, pipeline: setup.pipeline)
        let precision = filterDefinition.parameters[FilterStage.Keys.precision] ?? .fp32
        let setDigests = index.images.map { "\($0.evalSet)\t\($0.name)\t\($0.sha256)" }.joined(separator: "\n")
        let key = String(FNV1a.hash(([setDigests, precision.rawValue] + (try modelDigest(folder: folder))).joined(separator: "|")), radix: 16)
        let cache = EvaluationEmbeddingCache(folder: context.workspace.root + "/decontamination/" + context.name)
        let vectors: [[Float]]
        if let cached = cache.load(key: key, count: index.images.count) {
            vectors = cached
        } else {
            setEngineThreads(context.threads)
            let url = URL(fileURLWithPath: folder)
            let model = try BlipRetrievalModel(folder: url, precision: precision)
            let scorer = ITMScorer(model: model, tokenizer: try BertTokenizer(modelFolder: url), firstToken: .cls)
            let transform = BlipImageTransform(size: scorer.imageSize)
            let paths = try evaluationImagePaths(index)
            var rows: [[Float]] = []
            for start in stride(from: 0, to: paths.count, by: 64) {
                let pixels = try transform.transformFiles(Array(paths[start..<min(paths.count, start + 64)])).map { try $0.get() }
                rows += scorer.imageEmbeddings(pixels)
            }
            try cache.store(key: key, rows)
            context.logger.info("\(context.name): \(rows.count) evaluation images embedded with \(folder)")
            vectors = rows
        }
        let matcher = EmbeddingMatcher(images: index.images.map { ($0.evalSet, $0.name) }, vectors: vectors, threshold: Float(cosine))
        embeddings = matcher
        return matcher
    }

    /// The file of each indexed evaluation image, in index order.
    private func evaluationImagePaths(_ index: EvaluationIndex) throws -> [String] {
        var paths: [String: String] = [:]
        for set in sets {
            for image in try EvaluationSet(name: set.name, source: set.source).images { paths[set.name + "\t" + image.name] = image.path }
        }
        return index.images.map { paths[$0.evalSet + "\t" + $0.name]! }
    }
}
