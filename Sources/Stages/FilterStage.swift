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
/// Scores are cached under a scoring fingerprint (model, text cleaning, first token), which
/// leaves out the threshold: a new threshold re-decides from the stored scores without running
/// the model again.
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
    let calibration: (path: String, imageRoot: String?, rule: String?, keep: Double)?
    private var calibratedThreshold: Double?
    private var scoreFingerprintCache: String?
    private var loaded: (model: BlipRetrievalModel, tokenizer: BertTokenizer)?

    static let type = StageType(
        name: "filter", kind: .perSample, summary: "ITM filter of web and synthetic texts.",
        parameters: [
            ParameterSpec("model", .path(mustExist: true), optional: true, help: "a BlipForImageTextRetrieval folder"),
            ParameterSpec("model_from", .string, optional: true,
                          help: "instead of model: a training stage's output, STAGE or STAGE/SUBFOLDER"),
            ParameterSpec("threshold", .double(0...1), default: .double(0.5)),
            ParameterSpec("calibrate_on", .path(mustExist: true), optional: true,
                          help: "held-out pairs that choose the threshold instead of `threshold`: human captions (Karpathy/BLIP json list or COCO captions json) or an audited json list whose entries carry \"match\": true|false"),
            ParameterSpec("calibrate_image_root", .path(mustExist: true), optional: true, help: "image folder of a COCO calibrate_on file"),
            ParameterSpec("calibrate_rule", .choice(["keep", "f1"]), optional: true,
                          help: "keep: the ITM probability that calibrate_keep of the matching pairs reach; f1: the threshold whose drops best find the mismatched pairs (needs match labels). Default: f1 for an audited list, keep otherwise"),
            ParameterSpec("calibrate_keep", .double(0.5...1), default: .double(0.95), help: "share of the matching pairs the keep rule keeps"),
            ParameterSpec("first_token", .choice(["cls", "enc"]), optional: true,
                          help: "first token of the grounded encoder: cls (how Hugging Face's converted checkpoints are used; the default with `model`) or enc (BLIP's code and capfilt's training; the default with `model_from`)"),
            ParameterSpec("pre_caption", .bool, default: .bool(true), help: "clean texts as BLIP's pre_caption"),
            ParameterSpec("max_words", .int(1...512), default: .int(50)),
            ParameterSpec("max_tokens", .int(2...512), default: .int(35)),
            ParameterSpec("batch_size", .int(1...4096), default: .int(16), affectsResults: false),
            ParameterSpec("precision", .choice(Precision.allCases.map(\.rawValue)), optional: true,
                          help: "weight format, fp32 when absent; bf16 halves the model's memory"),
        ],
        requires: ["decode"],
        fingerprintInputs: { p in
            try StageModelReference.fingerprintInputs(p) + (try p.string("calibrate_on").map { ["calibration=" + (try FileDigest.sha256(path: $0))] } ?? [])
        },
        make: { setup in try FilterStage(setup.parameters, folder: try StageModelReference.modelFolder(setup)) })

    init(_ p: StageParameters, folder: String) throws {
        self.folder = folder
        batchSize = p.int("batch_size") ?? 16
        threshold = p.double("threshold") ?? 0.5
        // A model capfilt trained saw [ENC] first in every ITM pair; scoring it with [CLS] gives
        // near-arbitrary probabilities, so the default follows where the model comes from.
        firstToken = ITMFirstToken(rawValue: p.string("first_token") ?? (p.string("model_from") != nil ? "enc" : "cls")) ?? .cls
        clean = p.bool("pre_caption") ?? true
        maxWords = p.int("max_words") ?? 50
        maxTokens = p.int("max_tokens") ?? 35
        precision = Precision(rawValue: p.string("precision") ?? "fp32") ?? .fp32
        // Scores from fp32 weights keep their old fingerprint; bf16 scores are their own.
        scoreSettings = ["\(firstToken)", "\(clean)", "\(maxWords)", "\(maxTokens)"] + (precision == .fp32 ? [] : [precision.rawValue])
        calibration = p.string("calibrate_on").map {
            ($0, p.string("calibrate_image_root"), p.string("calibrate_rule"), p.double("calibrate_keep") ?? 0.95)
        }
    }

    /// BLIP's fixed threshold, or the one calibrated on held-out pairs (computed once per run).
    private func effectiveThreshold(context: StageContext) throws -> Double {
        guard let calibration else { return threshold }
        if let t = calibratedThreshold { return t }
        let (model, tokenizer) = try load(threads: context.threads)
        let pairs = try FilterCalibration(path: calibration.path, imageRoot: calibration.imageRoot)
        let rule: FilterCalibration.Rule = (calibration.rule ?? (pairs.labelled ? "f1" : "keep")) == "f1" ? .f1 : .keep(calibration.keep)
        let result = try pairs.threshold(rule: rule, imageSize: model.config.vision.imageSize, batchImages: max(1, batchSize)) {
            batch, images in self.score(batch, images: images, model: model, tokenizer: tokenizer).map(\.itm)
        }
        let threshold = String(format: "%.4f", result.threshold)
        switch rule {
        case .keep(let keep):
            context.logger.info("\(context.name): threshold \(threshold) keeps \(Int((keep * 100).rounded()))% of \(result.pairs) matching held-out pairs (\(calibration.path))")
        case .f1:
            context.logger.info("\(context.name): threshold \(threshold) has the best F1 on \(result.pairs) audited pairs: precision \(String(format: "%.3f", result.precision ?? 0)), recall \(String(format: "%.3f", result.recall ?? 0)) (\(calibration.path))")
        }
        try FilterCalibrationRecord(
            fingerprint: context.fingerprint, rule: rule.name, keep: rule.keepShare, threshold: result.threshold,
            pairs: result.pairs, precision: result.precision, recall: result.recall, file: calibration.path
        ).write(workspace: context.workspace, stage: context.name)
        calibratedThreshold = result.threshold
        return result.threshold
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
        // The texts to judge, and which of them already have a score.
        let (texts, cached): ([Int64: [TextRecord]], [Int64: TextScore]) = try context.catalog.read { session in
            var texts: [Int64: [TextRecord]] = [:]
            var cached: [Int64: TextScore] = [:]
            for s in samples {
                let judged = try session.texts(sampleID: s.id, syntheticFingerprint: synthetic).filter { $0.origin != "human" }
                texts[s.id] = judged
                for t in judged {
                    if let score = try session.score(textID: t.id, fingerprint: scoreFingerprint) { cached[t.id] = score }
                }
            }
            return (texts, cached)
        }
        let needScores = samples.filter { s in texts[s.id]!.contains { cached[$0.id] == nil } }
        var fresh: [TextScore] = []
        var marks: [Int64: ProgressMark] = [:]
        if !needScores.isEmpty {
            let (model, tokenizer) = try load(threads: context.threads)
            let images = try loadModelImages(needScores, size: model.config.vision.imageSize, catalog: context.catalog)
            for bad in images where bad.pixels == nil {
                marks[bad.sample.id] = ProgressMark(sampleID: bad.sample.id, status: bad.failure!.status, reason: bad.failure!.reason)
            }
            let good = images.filter { $0.pixels != nil }
            if !good.isEmpty {
                let pairs = good.enumerated().flatMap { (slot, image) in
                    texts[image.sample.id]!.filter { cached[$0.id] == nil }.map { (slot, $0) }
                }
                let scores = score(pairs.map { ($0.0, $0.1.text) }, images: good.map { $0.pixels! }, model: model, tokenizer: tokenizer)
                fresh = zip(pairs, scores).map { TextScore(textID: $0.1.id, itmProbability: $1.itm, itcSimilarity: $1.itc) }
            }
        }
        let all = cached.merging(fresh.map { ($0.textID, $0) }) { a, _ in a }
        let threshold = try effectiveThreshold(context: context)
        let calibrated = calibration == nil ? "" : " (calibrated)"
        var decisions: [Decision] = []
        for s in samples where marks[s.id] == nil {
            for t in texts[s.id]! {
                guard let score = all[t.id] else { continue }
                let kept = score.itmProbability >= threshold
                let reason = String(format: "itm %.3f %@ %g", score.itmProbability, kept ? ">=" : "<", threshold) + calibrated
                decisions.append(Decision(textID: t.id, kept: kept, reason: reason, itmProbability: score.itmProbability,
                                          itcSimilarity: score.itcSimilarity))
            }
            marks[s.id] = .ok(s.id)
        }
        let model = folder, fingerprint = context.fingerprint
        return StageBatch(marks: samples.map { marks[$0.id]! }) { session in
            for s in fresh { try session.insertScore(s, fingerprint: scoreFingerprint, model: model) }
            for d in decisions { try session.recordDecision(d, fingerprint: fingerprint) }
        }
    }

    private func load(threads: Int) throws -> (BlipRetrievalModel, BertTokenizer) {
        if let l = loaded { return l }
        setEngineThreads(threads)
        let url = URL(fileURLWithPath: folder)
        loaded = (try BlipRetrievalModel(folder: url, precision: precision), try BertTokenizer(modelFolder: url))
        return loaded!
    }

    /// ITM probability and ITC cosine of each (image slot, text) pair; each image encoded once.
    private func score(_ pairs: [(Int, String)], images: [[Float]], model: BlipRetrievalModel,
                       tokenizer: BertTokenizer) -> [(itm: Double, itc: Double)] {
        guard !pairs.isEmpty else { return [] }
        let size = model.config.vision.imageSize
        let states = model.encodeImages(stackPixels(images, size: size))
        let limit = min(maxTokens, model.config.text.maxPositionEmbeddings)
        let encoded = pairs.map { tokenizer.encode(clean ? preCaption($0.1, maxWords: maxWords) : $0.1, maxLength: limit) }
        let (ids, valid) = BertTokenizer.padded(encoded)
        let imageIndex = pairs.map(\.0)
        let grounded = model.groundedHidden(ids: ids, sequences: pairs.count, keyValid: valid, imageStates: states,
                                            imageIndex: imageIndex, firstToken: firstToken)
        let probabilities = matchProbabilities(model.itmLogits(groundedHidden: grounded))
        let textFeatures = model.textFeatures(textHidden: model.textHidden(ids: ids, sequences: pairs.count, keyValid: valid))
        let imageFeatures = model.imageFeatures(imageStates: states)
        let p = textFeatures.dim(1)
        return pairs.enumerated().map { (k, pair) in
            var cosine: Float = 0
            for j in 0..<p { cosine += imageFeatures[flat: pair.0 * p + j] * textFeatures[flat: k * p + j] }
            return (Double(probabilities[k]), Double(cosine))
        }
    }
}
