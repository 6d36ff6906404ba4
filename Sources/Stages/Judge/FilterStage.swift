import Basics
import Catalog
import Foundation
import MED
import Pipeline
import Tensor

/// CapFilt's filter: the ITM head scores every web and synthetic text against its image; a text
/// whose match probability is below the threshold is noise and is dropped (BLIP: 0.5). Web and
/// synthetic texts are judged independently; human texts are kept as they are. Every score is
/// kept (with ITC similarity), and every decision carries its reason.
///
/// With `keep_top` above 0 the filter is also a best-of-N selector: among one sample's synthetic
/// captions that pass, only the best `keep_top` by `rank_by` are kept (`CaptionRanking`). Every
/// synthetic caption's rank and ranking score are stored with its decision.
///
/// Scores are cached under a scoring fingerprint (model, text cleaning, first token), which
/// leaves out the threshold, `keep_top` and `rank_by`: a new decision setting re-decides from the
/// stored scores without running the model again.
final class FilterStage: SampleStage {
    let folder: String
    let batchSize: Int
    let threshold: Double
    let firstToken: ITMFirstToken
    let maxWords: Int
    let maxTokens: Int
    let clean: Bool
    let scoreSettings: [String]
    let precision: Precision
    /// `rule` nil: f1 for an audited list, keep otherwise.
    let calibration: (path: String, imageRoot: String?, rule: FilterCalibration.RuleName?, keep: Double)?
    private var calibratedThreshold: FilterThreshold?
    private var scoreFingerprintCache: String?
    private var loaded: ITMScorer?
    let embeddingScalar: EmbeddingStore.Scalar?
    private var store: EmbeddingStore?
    let ranking: CaptionRanking

    /// BLIP's threshold: a text whose ITM match probability is below it is dropped.
    static let blipThreshold = 0.5

    /// The filter's parameters, each declared once.
    enum Keys {
        static let model = StageModelReference.model(help: "a BlipForImageTextRetrieval folder")
        static let modelFrom = StageModelReference.modelFrom
        static let threshold = StageParameter("threshold", .double(0...1), default: blipThreshold,
                                              help: "ITM probability below which a text is dropped (BLIP: 0.5)",
                                              appliesWhen: .absent(calibrateOn))
        static let calibrateOn = StageParameter<String?>.optional(
            "calibrate_on", .path(mustExist: true),
            help: "held-out pairs that choose the threshold instead of `threshold`: human captions (Karpathy/BLIP json list or COCO captions json) or an audited json list whose entries carry \"match\": true|false")
        static let calibrateImageRoot = StageParameter<String?>.optional(
            "calibrate_image_root", .path(mustExist: true), help: "image folder of a COCO calibrate_on file",
            appliesWhen: .given(calibrateOn))
        static let calibrateRule = StageParameter<FilterCalibration.RuleName?>.optional(
            "calibrate_rule", choices: FilterCalibration.RuleName.self,
            help: "keep: the ITM probability that calibrate_keep of the matching pairs reach; f1: the threshold whose drops best find the mismatched pairs (needs match labels). Default: f1 for an audited list, keep otherwise",
            appliesWhen: .given(calibrateOn))
        static let calibrateKeep = StageParameter(
            "calibrate_keep", .double(0.5...1), default: 0.95, help: "share of the matching pairs the keep rule keeps",
            appliesWhen: .given(calibrateOn) && ParameterCondition("when `calibrate_rule` is not f1") { $0[calibrateRule] != .f1 })
        static let firstToken = StageParameter<ITMFirstToken?>.optional(
            "first_token", choices: ITMFirstToken.self,
            help: "first token of the grounded encoder: cls (how Hugging Face's converted checkpoints are used; the default with `model`) or enc (BLIP's code and capfilt's training; the default with `model_from`)")
        static let preCaption = StageParameter("pre_caption", .bool, default: true, help: "clean texts as BLIP's pre_caption")
        static let maxWords = StageParameter("max_words", .int(1...512), default: 50, help: "words kept by the cleaning",
                                             appliesWhen: .when(preCaption, in: [true], "true"))
        static let maxTokens = StageParameter("max_tokens", .int(2...512), default: 35, help: "tokens the text encoder reads")
        static let batchSize = StageParameter("batch_size", .int(1...4096), default: 16, affectsResults: false,
                                              help: "images scored together (their texts in one pass)")
        static let precision = StageParameter<Precision?>.optional(
            "precision", choices: Precision.self, help: "weight format, fp32 when absent; bf16 halves the model's memory")

        static let keepTop: StageParameter<Int> = StageParameter(
            "keep_top", .int(0...64), default: 0,
            help: "best-of-N: keep only the best this many of a sample's synthetic captions that pass the threshold, by `rank_by` (with caption's `captions_per_image`); 0 keeps every passing caption. Web texts are never ranked",
            appliesWhen: ranking)
        static let rankBy: StageParameter<CaptionRanking.Score> = StageParameter(
            "rank_by", default: CaptionRanking.Score.itm,
            help: "what ranks a sample's synthetic captions: itm (ITM probability), itc (ITC cosine) or product (the two multiplied)",
            appliesWhen: ranking)
        /// Without keep_top every passing caption is kept, so pipelines that do not rank keep
        /// their fingerprints.
        private static let ranking: ParameterCondition = ParameterCondition("when `keep_top` is above 0") { $0[keepTop] > 0 }

        static let embeddings = StageParameter("embeddings", .choice(["float16", "float32", "none"]), default: "float16",
                                               affectsResults: false,
                                               help: "keep the normalised ITC image and text embeddings of what is scored, in shards/<shard>/embeddings/<stage>/ (numpy-readable columns; docs/pipeline.md)")

        static let all = [model.spec, modelFrom.spec, threshold.spec, calibrateOn.spec, calibrateImageRoot.spec,
                          calibrateRule.spec, calibrateKeep.spec, firstToken.spec, preCaption.spec, maxWords.spec,
                          maxTokens.spec, keepTop.spec, rankBy.spec, batchSize.spec, precision.spec, embeddings.spec]
    }

    static let type = StageType(
        name: "filter", kind: .perSample, summary: "ITM filter of web and synthetic texts.",
        parameters: Keys.all,
        requires: ["decode"],
        fingerprintInputs: { p in
            try StageModelReference.fingerprintInputs(p) + (try p[Keys.calibrateOn].map { ["calibration=" + (try FileDigest.sha256(path: $0))] } ?? [])
        },
        check: { setup in try StageModelReference.check(setup, architecture: .retrieval) },
        make: { setup in try FilterStage(setup.parameters, folder: try StageModelReference.modelFolder(setup)) })

    init(_ p: StageParameters, folder: String) throws {
        self.folder = folder
        batchSize = p[Keys.batchSize]
        threshold = p[Keys.threshold]
        // A model capfilt trained saw [ENC] first in every ITM pair; scoring it with [CLS] gives
        // near-arbitrary probabilities, so the default follows where the model comes from.
        firstToken = p[Keys.firstToken] ?? (p[Keys.modelFrom] != nil ? .enc : .cls)
        clean = p[Keys.preCaption]
        maxWords = p[Keys.maxWords]
        maxTokens = p[Keys.maxTokens]
        precision = p[Keys.precision] ?? .fp32
        embeddingScalar = EmbeddingStore.Scalar(rawValue: p[Keys.embeddings])
        // Scores from fp32 weights keep their old fingerprint; bf16 scores are their own.
        scoreSettings = ["\(firstToken)", "\(clean)", "\(maxWords)", "\(maxTokens)"] + (precision == .fp32 ? [] : [precision.rawValue])
        let keepTop = p[Keys.keepTop]
        // Without keep_top, ranks are recorded by ITM (rank_by is not in the fingerprint then).
        ranking = CaptionRanking(by: keepTop > 0 ? p[Keys.rankBy] : .itm, keepTop: keepTop)
        calibration = p[Keys.calibrateOn].map { ($0, p[Keys.calibrateImageRoot], p[Keys.calibrateRule], p[Keys.calibrateKeep]) }
    }

    /// BLIP's fixed threshold, or the one calibrated on held-out pairs (computed once per run).
    private func effectiveThreshold(context: StageContext) throws -> FilterThreshold {
        guard let calibration else { return FilterThreshold(value: threshold, origin: .fixed) }
        if let t = calibratedThreshold { return t }
        let scorer = try load(threads: context.threads)
        let pairs = try FilterCalibration(path: calibration.path, imageRoot: calibration.imageRoot)
        let rule: FilterCalibration.Rule = (calibration.rule ?? (pairs.labelled ? .f1 : .keep)) == .f1 ? .f1 : .keep(calibration.keep)
        let result = try pairs.threshold(rule: rule, scorer: scorer, batchImages: max(1, batchSize))
        let chosen = FilterThreshold(value: result.threshold, origin: .calibrated, rule: rule.name, keepShare: rule.keepShare,
                                     pairs: result.pairs, precision: result.precision, recall: result.recall, file: calibration.path)
        let threshold = String(format: "%.4f", result.threshold)
        switch rule {
        case .keep(let keep):
            context.logger.info("\(context.name): threshold \(threshold) keeps \(Int((keep * 100).rounded()))% of \(result.pairs) matching held-out pairs (\(calibration.path))")
        case .f1:
            context.logger.info("\(context.name): threshold \(threshold) has the best F1 on \(result.pairs) audited pairs: precision \(String(format: "%.3f", result.precision ?? 0)), recall \(String(format: "%.3f", result.recall ?? 0)) (\(calibration.path))")
        }
        calibratedThreshold = chosen
        return chosen
    }

    /// Computed on first use: a `model_from` folder is written by an earlier stage of the run.
    private func scoreFingerprint() throws -> String {
        if let f = scoreFingerprintCache { return f }
        let f = String(FNV1a.hash((try modelDigest(folder: folder) + scoreSettings).joined(separator: "|")), radix: 16)
        scoreFingerprintCache = f
        return f
    }

    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch {
        let synthetic = context.upstream(type: "caption")?.fingerprint
        let scoreFingerprint = try self.scoreFingerprint()
        // Captions a gate upstream dropped are not judged (nor kept: assemble leaves them out too).
        let gates = context.upstream(allOfType: "gate").map(\.requirement)
        // The texts to judge, and which of them already have a score.
        let (texts, cached): ([Int64: [TextRecord]], [Int64: TextScore]) = try context.catalog.read { session in
            var texts: [Int64: [TextRecord]] = [:]
            var cached: [Int64: TextScore] = [:]
            for s in samples {
                let gated = try session.gatedTextIDs(sampleID: s.id, gates: gates)
                let judged = try session.texts(sampleID: s.id, syntheticFingerprint: synthetic)
                    .filter { $0.origin != .human && !gated.contains($0.id) }
                texts[s.id] = judged
                for t in judged {
                    // A score counts for the image it was computed on only.
                    if let score = try session.score(textID: t.id, fingerprint: scoreFingerprint, image: s.imageSHA256) {
                        cached[t.id] = score
                    }
                }
            }
            return (texts, cached)
        }
        let needScores = samples.filter { s in texts[s.id]!.contains { cached[$0.id] == nil } }
        var fresh: [TextScore] = []
        var marks: [Int64: ProgressMark] = [:]
        if !needScores.isEmpty {
            let scorer = try load(threads: context.threads)
            let images = try loadModelImages(needScores, size: scorer.imageSize, catalog: context.catalog)
            for bad in images where bad.pixels == nil {
                marks[bad.sample.id] = ProgressMark(sampleID: bad.sample.id, status: bad.failure!.status, reason: bad.failure!.reason)
            }
            let good = images.filter { $0.pixels != nil }
            if !good.isEmpty {
                let pairs = good.enumerated().flatMap { (slot, image) in
                    texts[image.sample.id]!.filter { cached[$0.id] == nil }.map { (slot, $0) }
                }
                let scored = scorer.scoreWithEmbeddings(pairs.map { ($0.0, $0.1.text) }, images: good.map { $0.pixels! })
                fresh = zip(pairs, scored.scores).map { TextScore(textID: $0.1.id, itmProbability: $1.itm, itcSimilarity: $1.itc) }
                if let store = try embeddingStore(context, dimension: scored.images.first?.count) {
                    // Written before the batch commits; a batch run again appends the same rows again.
                    try store.append(.image, ids: good.map(\.sample.id), vectors: scored.images)
                    try store.append(.text, ids: pairs.map(\.1.id), vectors: scored.texts)
                }
            }
        }
        let all = cached.merging(fresh.map { ($0.textID, $0) }) { a, _ in a }
        let chosen = try effectiveThreshold(context: context)
        let threshold = chosen.value
        let calibrated = chosen.origin == .calibrated ? " (calibrated)" : ""
        var decisions: [Decision] = []
        let ranking = self.ranking, by = ranking.by.rawValue
        for s in samples where marks[s.id] == nil {
            // Synthetic captions are ranked against each other only; web texts are judged alone.
            let candidates = texts[s.id]!.filter { $0.origin == .synthetic }.compactMap { all[$0.id] }
            let places = ranking.places(candidates) { $0.itmProbability >= threshold }
            for t in texts[s.id]! {
                guard let score = all[t.id] else { continue }
                let passes = score.itmProbability >= threshold
                var kept = passes
                var reason = String(format: "itm %.3f %@ %g", score.itmProbability, passes ? ">=" : "<", threshold) + calibrated
                let place = places[t.id]
                if let place, ranking.keepTop > 0 {
                    kept = passes && place.withinTop
                    reason += ", rank \(place.position) of \(candidates.count) by \(by)"
                    if passes && !kept { reason += " (keep_top \(ranking.keepTop))" }
                }
                decisions.append(Decision(textID: t.id, kept: kept, reason: reason, itmProbability: score.itmProbability,
                                          itcSimilarity: score.itcSimilarity,
                                          rank: place.map { TextRank(position: $0.position, score: $0.score, by: by) }))
            }
            marks[s.id] = .ok(s.id)
        }
        let model = folder, fingerprint = context.fingerprint
        var imageOfText: [Int64: String] = [:]
        for s in samples { for t in texts[s.id]! { imageOfText[t.id] = s.imageSHA256 } }
        return StageBatch(marks: samples.map { marks[$0.id]! }) { session in
            for s in fresh {
                try session.insertScore(s, fingerprint: scoreFingerprint, model: model, image: imageOfText[s.textID])
            }
            try session.recordFilterThreshold(chosen, fingerprint: fingerprint)
            for d in decisions { try session.recordDecision(d, fingerprint: fingerprint) }
        }
    }

    private func embeddingStore(_ context: StageContext, dimension: Int?) throws -> EmbeddingStore? {
        guard let scalar = embeddingScalar, let dimension else { return nil }
        // One stage object serves every shard of a run: the store is the current shard's.
        let folder = context.workspace.embeddingFolder(context.shard, stage: context.name)
        if let store, store.folder == folder { return store }
        let opened = try EmbeddingStore(folder: folder, dimension: dimension, scalar: scalar)
        store = opened
        return opened
    }

    private func load(threads: Int) throws -> ITMScorer {
        if let l = loaded { return l }
        setEngineThreads(threads)
        let url = URL(fileURLWithPath: folder)
        let scorer = ITMScorer(model: try BlipRetrievalModel(folder: url, precision: precision), tokenizer: try BertTokenizer(modelFolder: url),
                               firstToken: firstToken, text: ScoringText(clean: clean, maxWords: maxWords, maxTokens: maxTokens))
        loaded = scorer
        return scorer
    }
}
