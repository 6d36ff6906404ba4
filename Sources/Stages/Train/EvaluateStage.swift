import Catalog
import Evaluation
import Foundation
import Imaging
import MED
import Pipeline
import Report
import Tensor

/// Measures a CapFilt run on a clean test split with known noise: retrieval R@1 / R@5 (both
/// directions, ITC similarity) of the model trained on noisy data and of the one trained on the
/// bootstrapped data, with the paired standard error of their R@1 differences; BLEU-4 and CIDEr
/// of the captioner on the test images; the filter's precision and recall against the web rows'
/// noise labels (joined to its decisions by the CC3M row key), per noise kind, its false-drop
/// rate, and the share of synthetic captions it dropped. Writes `<workdir>/results.json` (the
/// demo's fixed keys) and `<workdir>/evaluation.json` (the report's evaluation section).
final class EvaluateStage: DatasetStage {
    let noisy: String, bootstrapped: String, captioner: String

    /// The stage's parameters, each declared once.
    enum Keys {
        static let test = StageParameter<String>.required("test", .path(mustExist: true), help: "Karpathy-style json: [{image, caption: [...]}], paths relative to it")
        static let noiseLabels = StageParameter<String>.required("noise_labels", .path(mustExist: true), help: "per web row: {key, kind}; kind clean or a noise kind")
        static let semanticDuplicateLabels = StageParameter<String?>.optional(
            "semantic_duplicate_labels", .path(mustExist: true),
            help: "planted semantic duplicates: [{original, variant}] web sample keys; adds the semantic dedup's recall and precision")
        static let noisy = StageParameter<String>.required("noisy", .string, help: "the retrieval model trained on noisy data (STAGE/SUBFOLDER)")
        static let bootstrapped = StageParameter<String>.required("bootstrapped", .string, help: "the retrieval model trained on the bootstrapped data")
        static let captioner = StageParameter<String>.required("captioner", .string, help: "the captioner whose test captions are scored")
        static let maxImages = StageParameter("max_images", .int(0...10_000_000), default: 0, help: "use the first N test images (0: all)")
        static let maxLength = StageParameter("max_length", .int(2...512), default: 30, help: "caption tokens at most")
        static let minLength = StageParameter("min_length", .int(0...512), default: 5, help: "caption tokens at least")
        static let prompt = StageParameter("prompt", .string, default: "a picture of ", help: "text the captioner continues")
        static let captionFacts = StageParameter<String?>.optional(
            "caption_facts", .path(mustExist: true),
            help: "per web row: {key, facts: [{accept: [...], reject: [...]}]} (JSON Lines); reports the share of synthetic captions, and of those the filter kept, that state a fact wrong or leave it out")
        static let contaminationLabels = StageParameter<String?>.optional(
            "contamination_labels", .path(mustExist: true),
            help: "web rows that are copies of test images: [{web_key, test_image}]; adds the decontaminate stages' recall and the clean samples they removed")
        static let threads = StageParameter<Int?>.optional("threads", .int(1...1024), affectsResults: false, help: "compute threads (default: the pipeline's)")

        static let all = [test.spec, noiseLabels.spec, semanticDuplicateLabels.spec, noisy.spec, bootstrapped.spec, captioner.spec, maxImages.spec, maxLength.spec, minLength.spec, prompt.spec, captionFacts.spec, contaminationLabels.spec, threads.spec]
    }

    static let type = StageType(
        name: "evaluate", kind: .wholeDataset, summary: "Retrieval, caption and filter metrics on a clean labelled test split.",
        parameters: Keys.all,
        requires: ["filter"],
        make: { setup in try EvaluateStage(setup) })

    init(_ setup: StageSetup) throws {
        let p = setup.parameters
        noisy = try StageModelReference.resolve(p[Keys.noisy], key: "noisy", setup: setup)
        bootstrapped = try StageModelReference.resolve(p[Keys.bootstrapped], key: "bootstrapped", setup: setup)
        captioner = try StageModelReference.resolve(p[Keys.captioner], key: "captioner", setup: setup)
    }

    /// The keys of results.json, in order.
    static let resultKeys = [
        "filter_precision", "filter_recall", "synthetic_noise_ratio", "bleu4", "cider",
        "r1_i2t_noisy", "r1_i2t_bootstrapped", "r1_t2i_noisy", "r1_t2i_bootstrapped",
        "r5_i2t_noisy", "r5_i2t_bootstrapped", "r5_t2i_noisy", "r5_t2i_bootstrapped", "seconds",
    ]
    /// Added with `caption_facts`.
    static let captionFactKeys = ["synthetic_false_ratio", "synthetic_kept_false_ratio", "synthetic_kept_false_ratio_se", "synthetic_kept"]
    /// Added before `seconds` when `semantic_duplicate_labels` is given.
    static let semanticResultKeys = ["semantic_dedup_recall", "semantic_dedup_precision"]

    func run(_ context: DatasetContext) throws -> String {
        let started = Date()
        let p = context.parameters
        setEngineThreads(p[Keys.threads] ?? context.threads)
        let test = try TestSplit(path: p[Keys.test], limit: p[Keys.maxImages])
        context.logger.info("\(context.name): \(test.images.count) test images, \(test.texts.count) texts")
        let tokenizer = try BertTokenizer.bundled()
        let noisyRecall = try test.retrieval(model: BlipRetrievalModel(folder: URL(fileURLWithPath: noisy)), tokenizer: tokenizer)
        let bootRecall = try test.retrieval(model: BlipRetrievalModel(folder: URL(fileURLWithPath: bootstrapped)), tokenizer: tokenizer)
        let i2t = RecallDifference.paired(first: noisyRecall.imageHits(at: 1), second: bootRecall.imageHits(at: 1))
        let t2i = RecallDifference.paired(first: noisyRecall.textHits(at: 1), second: bootRecall.textHits(at: 1))
        let model = try BlipCaptioningModel(folder: URL(fileURLWithPath: captioner))
        let candidates = try test.captions(model: model, tokenizer: tokenizer, prompt: p[Keys.prompt],
                                       maxLength: p[Keys.maxLength], minLength: p[Keys.minLength])
        let bleu = BLEU.corpus(candidates: candidates, references: test.references)
        let cider = CIDEr.compute(candidates: candidates, references: test.references)
        let filter = try FilterOutcome(context, labels: p[Keys.noiseLabels])
        let facts = try p[Keys.captionFacts].map { try CaptionFactOutcome(context, facts: $0) }
        let contamination = try p[Keys.contaminationLabels].map { try ContaminationOutcome(context, labels: $0) }
        let semantic = try p[Keys.semanticDuplicateLabels].map { try SemanticDedupOutcome(context, labels: $0) }

        let previous = context.runLog.reduce(0) { $0 + $1.seconds }
        var values: [String: Double] = [
            "filter_precision": filter.detection.precision, "filter_recall": filter.detection.recall,
            "synthetic_noise_ratio": filter.syntheticNoiseRatio, "bleu4": bleu.bleu4, "cider": cider.score,
            "r1_i2t_noisy": noisyRecall.imageToText(at: 1), "r1_i2t_bootstrapped": bootRecall.imageToText(at: 1),
            "r1_t2i_noisy": noisyRecall.textToImage(at: 1), "r1_t2i_bootstrapped": bootRecall.textToImage(at: 1),
            "r5_i2t_noisy": noisyRecall.imageToText(at: 5), "r5_i2t_bootstrapped": bootRecall.imageToText(at: 5),
            "r5_t2i_noisy": noisyRecall.textToImage(at: 5), "r5_t2i_bootstrapped": bootRecall.textToImage(at: 5),
            "seconds": previous + Date().timeIntervalSince(started),
        ]
        if let facts {
            values["synthetic_false_ratio"] = facts.all.value
            values["synthetic_kept_false_ratio"] = facts.kept.value
            values["synthetic_kept_false_ratio_se"] = facts.kept.standardError
            values["synthetic_kept"] = Double(facts.kept.total)
        }
        if let contamination {
            values["decontamination_recall"] = contamination.recall
            values["decontamination_clean_removed"] = Double(contamination.cleanRemoved)
        }
        if let semantic {
            values["semantic_dedup_recall"] = semantic.recall
            values["semantic_dedup_precision"] = semantic.precision
        }
        let root = context.workspace.root
        // `seconds` stays last: `capfilt demo` adds the time of its other phases to it.
        let keys: [String] = Array(Self.resultKeys.dropLast()) + (facts == nil ? [] : Self.captionFactKeys)
            + (contamination == nil ? [] : ["decontamination_recall", "decontamination_clean_removed"])
            + (semantic == nil ? [] : Self.semanticResultKeys) + ["seconds"]
        try EvaluationFiles.writeResults(values, keys: keys, to: root + "/results.json")

        var metrics = [
            EvaluationMetric(name: "filter threshold", value: filter.threshold, description: filter.thresholdOrigin),
            EvaluationMetric(name: "filter precision", value: filter.detection.precision,
                             description: "share of dropped web texts that were injected noise"),
            EvaluationMetric(name: "filter recall", value: filter.detection.recall, description: "share of injected noise dropped"),
            EvaluationMetric(name: "false-drop rate", value: filter.detection.falseDropRate, description: "share of clean web texts dropped"),
        ]
        for kind in filter.detection.recallByKind.keys.sorted() where kind != Detection.clean {
            metrics.append(EvaluationMetric(name: "filter recall: \(kind)", value: filter.detection.recallByKind[kind],
                                            description: "\(filter.detection.droppedByKind[kind] ?? 0) of \(filter.detection.countByKind[kind] ?? 0) dropped"))
        }
        let byChange = filter.detectionByChange
        for change in byChange.recallByKind.keys.sorted() where filter.detection.recallByKind[change] == nil {
            metrics.append(EvaluationMetric(name: "filter recall: \(change)", value: byChange.recallByKind[change],
                                            description: "\(byChange.droppedByKind[change] ?? 0) of \(byChange.countByKind[change] ?? 0) dropped"))
        }
        let blip = filter.detectionAtBLIPThreshold, at = "at \(FilterStage.blipThreshold)"
        metrics += [
            EvaluationMetric(name: "filter precision \(at)", value: blip.precision, description: "BLIP's fixed threshold, from the stored scores"),
            EvaluationMetric(name: "filter recall \(at)", value: blip.recall, description: "BLIP's fixed threshold"),
            EvaluationMetric(name: "false-drop rate \(at)", value: blip.falseDropRate, description: "BLIP's fixed threshold"),
        ]
        if let semantic {
            metrics += [
                EvaluationMetric(name: "semantic dedup recall", value: semantic.recall,
                                 description: "\(semantic.found) of \(semantic.planted) planted semantic duplicates found"),
                EvaluationMetric(name: "semantic dedup precision", value: semantic.precision,
                                 description: "\(semantic.found) planted pairs among \(semantic.records) semantic-duplicate records"),
            ]
        }
        metrics += [
            EvaluationMetric(name: "synthetic noise ratio", value: filter.syntheticNoiseRatio, description: "share of synthetic captions dropped"),
        ]
        if let facts {
            metrics += [
                EvaluationMetric(name: "false synthetic captions", value: facts.all.value,
                                 description: String(format: "%d of %d contradict or leave out a fact of their image (standard error %.3f)",
                                                     facts.all.count, facts.all.total, facts.all.standardError)),
                EvaluationMetric(name: "false synthetic captions kept", value: facts.kept.value,
                                 description: String(format: "%d of the %d the filter kept (standard error %.3f)",
                                                     facts.kept.count, facts.kept.total, facts.kept.standardError)),
            ]
        }
        metrics += [
            EvaluationMetric(name: "BLEU-4", value: bleu.bleu4, description: "captioner on the \(test.images.count) test images"),
            EvaluationMetric(name: "CIDEr", value: cider.score),
        ]
        for (label, noisyValue, bootValue) in [
            ("R@1 image-to-text", noisyRecall.imageToText(at: 1), bootRecall.imageToText(at: 1)),
            ("R@1 text-to-image", noisyRecall.textToImage(at: 1), bootRecall.textToImage(at: 1)),
            ("R@5 image-to-text", noisyRecall.imageToText(at: 5), bootRecall.imageToText(at: 5)),
            ("R@5 text-to-image", noisyRecall.textToImage(at: 5), bootRecall.textToImage(at: 5)),
        ] {
            metrics.append(EvaluationMetric(name: "\(label), noisy (%)", value: noisyValue))
            metrics.append(EvaluationMetric(name: "\(label), bootstrapped (%)", value: bootValue))
        }
        for (label, d) in [("image-to-text", i2t), ("text-to-image", t2i)] {
            metrics.append(EvaluationMetric(name: "R@1 gain \(label) (points)", value: 100 * d.difference,
                                            description: String(format: "standard error %.2f points (paired, %d queries)",
                                                                100 * d.standardError, d.queries)))
        }
        if let contamination {
            metrics.append(EvaluationMetric(name: "decontamination recall", value: contamination.recall,
                                            description: "\(contamination.found) of \(contamination.planted) planted test-image copies removed"))
            metrics.append(EvaluationMetric(name: "clean samples removed by decontamination", value: Double(contamination.cleanRemoved),
                                            description: "removed samples that were no planted copy"))
        }
        try EvaluationFiles.writeMetrics(metrics, to: root + "/" + EvaluationFiles.metricsFile)
        return String(format: "{\"filter_precision\":%.4f,\"filter_recall\":%.4f,\"r1_i2t_gain\":%.2f,\"r1_t2i_gain\":%.2f,"
                      + "\"r1_i2t_gain_se\":%.2f,\"r1_t2i_gain_se\":%.2f}",
                      filter.detection.precision, filter.detection.recall, 100 * i2t.difference, 100 * t2i.difference,
                      100 * i2t.standardError, 100 * t2i.standardError)
    }
}
