import Basics
import Catalog
import Foundation
import MED
import Pipeline
import Tensor

/// Writes synthetic captions with the MED decoder: by default CapFilt's settings (nucleus
/// sampling, top-p 0.9, repetition penalty 1.1, max 30 / min 10 tokens counting [DEC] and the
/// prompt "a picture of ", which is stripped from the text). Beam search is an option.
///
/// Sampling is seeded per caption: caption j of a sample draws from its own stream, seeded from
/// `seed`, the sample's source and key, and j (`imageSeed`). A caption therefore depends on
/// the seed, the sample and its index only; `batch_size`, threads, shards and resuming never
/// change it.
final class CaptionStage: SampleStage {
    let folder: String
    let batchSize: Int
    let config: GenerationConfig
    let prompt: String
    let origins: Set<TextOrigin>
    let settings: String
    let precision: Precision

    /// How captions are decoded: nucleus sampling (CapFilt's), beam search or greedy.
    enum Strategy: String, CaseIterable, Sendable { case nucleus, beam, greedy }
    private var loaded: (model: BlipCaptioningModel, tokenizer: BertTokenizer, promptIDs: [Int], promptText: String)?

    /// The stage's parameters, each declared once.
    enum Keys {
        static let model = StageModelReference.model(help: "a BlipForConditionalGeneration folder")
        static let modelFrom = StageModelReference.modelFrom
        static let strategy = StageParameter("strategy", default: Strategy.nucleus, help: "nucleus: sample from the smallest set of tokens holding top_p of the probability (CapFilt); beam: beam search; greedy: the likeliest token each step")
        static let topP = StageParameter("top_p", .double(0.000_001...1), default: 0.9, help: "nucleus mass (BLIP: 0.9)", appliesWhen: sampling)
        static let topK = StageParameter("top_k", .int(0...100_000), default: 0, help: "also keep at most this many tokens when sampling; 0: no limit", appliesWhen: sampling)
        static let temperature = StageParameter("temperature", .double(0.01...100), default: 1.0, help: "divides the logits before sampling", appliesWhen: sampling)
        static let repetitionPenalty = StageParameter("repetition_penalty", .double(0.01...100), default: 1.1, help: "CTRL's penalty on tokens already generated (BLIP: 1.1)")
        static let beams = StageParameter("beams", .int(1...64), default: 3, help: "beam width", appliesWhen: .when(strategy, in: [.beam], "beam"))
        static let maxLength = StageParameter("max_length", .int(1...512), default: 30, help: "tokens at most, counting [DEC] and the prompt (BLIP: 30)")
        static let minLength = StageParameter("min_length", .int(0...512), default: 10, help: "tokens at least before [SEP] may end a caption (BLIP: 10)")
        static let prompt = StageParameter("prompt", .string, default: "a picture of ", help: "text the decoder continues, stripped from the caption (BLIP: \"a picture of \")")
        static let captionsPerImage = StageParameter("captions_per_image", .int(1...64), default: 1, help: "synthetic captions written per image (at most `beams` with beam search)")
        static let seed = StageParameter("seed", .int(0...Int.max), default: 0, help: "sampling seed")
        static let origins = StageParameter("origins", .list(.choice(["web", "human"])), default: [TextOrigin.web], help: "which samples get synthetic captions")
        static let batchSize = StageParameter("batch_size", .int(1...4096), default: 8, affectsResults: false,
                                              help: "images decoded together (captions are seeded per sample, so it never changes them)")
        static let precision = StageParameter<Precision?>.optional(
            "precision", choices: Precision.self, help: "weight format, fp32 when absent; bf16 halves the model's memory")

        private static let sampling = ParameterCondition.when(strategy, in: [.nucleus], "nucleus")

        static let all = [model.spec, modelFrom.spec, strategy.spec, topP.spec, topK.spec, temperature.spec, repetitionPenalty.spec, beams.spec, maxLength.spec, minLength.spec, prompt.spec, captionsPerImage.spec, seed.spec, origins.spec, batchSize.spec, precision.spec]
    }

    static let type = StageType(
        name: "caption", kind: .perSample, summary: "Synthetic captions from the MED decoder.",
        parameters: Keys.all,
        requires: ["decode"],
        fingerprintInputs: { p in try StageModelReference.fingerprintInputs(p) },
        check: { setup in try StageModelReference.check(setup, architecture: .captioning) },
        make: { setup in try CaptionStage(setup) })

    init(_ setup: StageSetup) throws {
        let p = setup.parameters
        folder = try StageModelReference.modelFolder(setup)
        batchSize = p[Keys.batchSize]
        var c = GenerationConfig()
        switch p[Keys.strategy] {
        case .beam: c.strategy = .beam(width: p[Keys.beams])
        case .greedy: c.strategy = .greedy
        case .nucleus:
            c.strategy = .sample(topP: Float(p[Keys.topP]), topK: p[Keys.topK],
                                 temperature: Float(p[Keys.temperature]))
        }
        c.maxLength = p[Keys.maxLength]
        c.minLength = p[Keys.minLength]
        c.repetitionPenalty = Float(p[Keys.repetitionPenalty])
        c.numReturnSequences = p[Keys.captionsPerImage]
        c.seed = UInt64(p[Keys.seed])
        if case .beam(let width) = c.strategy, c.numReturnSequences > width {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line,
                                key: "stages.\(setup.definition.name).captions_per_image", "cannot exceed `beams` with beam search")
        }
        config = c
        prompt = p[Keys.prompt]
        origins = Set(p[Keys.origins])
        settings = setup.parameters.canonical
        precision = p[Keys.precision] ?? .fp32
    }

    /// The sampling seed of one sample's captions: the stage seed mixed with its (source, key),
    /// the identity a sample keeps for good. Caption j then draws from
    /// `SeededGenerator.sequenceSeed(imageSeed, j)`.
    static func imageSeed(_ seed: UInt64, source: String, key: String) -> UInt64 {
        SeededGenerator.sequenceSeed(seed, FNV1a.hash(source + "\u{0}" + key))
    }

    private func load(threads: Int) throws -> (BlipCaptioningModel, BertTokenizer, [Int], String) {
        if let l = loaded { return l }
        setEngineThreads(threads)
        let url = URL(fileURLWithPath: folder)
        let model = try BlipCaptioningModel(folder: url, precision: precision)
        let tokenizer = try BertTokenizer(modelFolder: url)
        let ids = CaptionGenerator.promptIDs(prompt.isEmpty ? nil : prompt, tokenizer: tokenizer, bos: model.config.text.bosTokenID)
        let text = tokenizer.decode(ids, skipSpecialTokens: true)
        loaded = (model, tokenizer, ids, text)
        return loaded!
    }

    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch {
        var marks: [ProgressMark] = []
        let todo = samples.filter { origins.contains($0.origin) }
        for s in samples where !origins.contains(s.origin) {
            marks.append(ProgressMark(sampleID: s.id, status: .ok, reason: "not captioned (\(s.origin) sample)"))
        }
        guard !todo.isEmpty else { return StageBatch(marks: marks) }
        // A sample whose image cannot be read keeps no synthetic caption (one from earlier bytes
        // would describe another picture).
        var uncaptioned: [Int64] = []
        let (model, tokenizer, promptIDs, promptText) = try load(threads: context.threads)
        let size = model.config.vision.imageSize
        let images = try loadModelImages(todo, size: size, catalog: context.catalog)
        let good = images.filter { $0.pixels != nil }
        for bad in images where bad.pixels == nil {
            marks.append(ProgressMark(sampleID: bad.sample.id, status: bad.failure!.status, reason: bad.failure!.reason))
            uncaptioned.append(bad.sample.id)
        }
        var captions: [(Int64, [String])] = []
        if !good.isEmpty {
            var c = config
            c.bosTokenID = model.config.text.bosTokenID
            c.eosTokenID = model.config.text.sepTokenID
            c.padTokenID = model.config.text.padTokenID
            let states = model.encodeImages(ImageBatch.stack(good.map { $0.pixels! }, size: size))
            let seeds = good.map { Self.imageSeed(config.seed, source: $0.sample.source, key: $0.sample.key) }
            let out = CaptionGenerator(model: model).generate(imageStates: states, prompt: promptIDs, config: c,
                                                              imageSeeds: seeds)
            for (image, sequences) in zip(good, out) {
                let texts = sequences.map { seq -> String in
                    var text = tokenizer.decode(seq.tokenIDs, skipSpecialTokens: true)
                    if !promptText.isEmpty, text.hasPrefix(promptText) {
                        text = String(text.dropFirst(promptText.count))
                    }
                    return text.trimmingCharacters(in: .whitespaces)
                }
                captions.append((image.sample.id, texts))
                marks.append(.ok(image.sample.id))
            }
        }
        let modelName = folder, settings = self.settings, fingerprint = context.fingerprint
        return StageBatch(marks: marks) { session in
            for id in uncaptioned {
                try session.replaceSynthetic(sampleID: id, captions: [], model: modelName, settings: settings, fingerprint: fingerprint)
            }
            for (id, texts) in captions {
                try session.replaceSynthetic(sampleID: id, captions: texts, model: modelName, settings: settings,
                                             fingerprint: fingerprint)
            }
        }
    }
}
