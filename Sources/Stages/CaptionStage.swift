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
/// Sampling is seeded per batch from `seed` and the batch's first sample key. Batches are the
/// next `batch_size` pending samples in id order and land whole, so a resumed run draws the same
/// batches, and the same captions, as an uninterrupted one.
final class CaptionStage: SampleStage {
    let folder: String
    let batchSize: Int
    let config: GenerationConfig
    let prompt: String
    let origins: Set<String>
    let settings: String
    let precision: Precision
    private var loaded: (model: BlipCaptioningModel, tokenizer: BertTokenizer, promptIDs: [Int], promptText: String)?

    static let type = StageType(
        name: "caption", kind: .perSample, summary: "Synthetic captions from the MED decoder.",
        parameters: [
            ParameterSpec("model", .path(mustExist: true), optional: true, help: "a BlipForConditionalGeneration folder"),
            ParameterSpec("model_from", .string, optional: true,
                          help: "instead of model: a training stage's output, STAGE or STAGE/SUBFOLDER"),
            ParameterSpec("strategy", .choice(["nucleus", "beam", "greedy"]), default: .string("nucleus")),
            ParameterSpec("top_p", .double(0.000_001...1), default: .double(0.9)),
            ParameterSpec("top_k", .int(0...100_000), default: .int(0)),
            ParameterSpec("temperature", .double(0.01...100), default: .double(1)),
            ParameterSpec("repetition_penalty", .double(0.01...100), default: .double(1.1)),
            ParameterSpec("beams", .int(1...64), default: .int(3)),
            ParameterSpec("max_length", .int(1...512), default: .int(30)),
            ParameterSpec("min_length", .int(0...512), default: .int(10)),
            ParameterSpec("prompt", .string, default: .string("a picture of ")),
            ParameterSpec("captions_per_image", .int(1...64), default: .int(1)),
            ParameterSpec("seed", .int(0...Int.max), default: .int(0)),
            ParameterSpec("origins", .list(.choice(["web", "human"])), default: .list([.string("web")]),
                          help: "which samples get synthetic captions"),
            ParameterSpec("batch_size", .int(1...4096), default: .int(8)),
            ParameterSpec("precision", .choice(Precision.allCases.map(\.rawValue)), optional: true,
                          help: "weight format, fp32 when absent; bf16 halves the model's memory"),
        ],
        requires: ["decode"],
        fingerprintInputs: { p in try StageModelReference.fingerprintInputs(p) },
        make: { setup in try CaptionStage(setup) })

    init(_ setup: StageSetup) throws {
        let p = setup.parameters
        folder = try StageModelReference.modelFolder(setup)
        batchSize = p.int("batch_size") ?? 8
        var c = GenerationConfig()
        switch p.string("strategy") {
        case "beam": c.strategy = .beam(width: p.int("beams") ?? 3)
        case "greedy": c.strategy = .greedy
        default:
            c.strategy = .sample(topP: Float(p.double("top_p") ?? 0.9), topK: p.int("top_k") ?? 0,
                                 temperature: Float(p.double("temperature") ?? 1))
        }
        c.maxLength = p.int("max_length") ?? 30
        c.minLength = p.int("min_length") ?? 10
        c.repetitionPenalty = Float(p.double("repetition_penalty") ?? 1.1)
        c.numReturnSequences = p.int("captions_per_image") ?? 1
        c.seed = UInt64(p.int("seed") ?? 0)
        if case .beam(let width) = c.strategy, c.numReturnSequences > width {
            throw PipelineError(file: setup.pipeline.file, line: setup.definition.line,
                                key: "stages.\(setup.definition.name).captions_per_image", "cannot exceed `beams` with beam search")
        }
        config = c
        prompt = p.string("prompt") ?? ""
        origins = Set(p.list("origins").compactMap(\.stringValue))
        settings = setup.parameters.canonical
        precision = Precision(rawValue: p.string("precision") ?? "fp32") ?? .fp32
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
            marks.append(ProgressMark(sampleID: s.id, status: "ok", reason: "not captioned (\(s.origin) sample)"))
        }
        guard !todo.isEmpty else { return StageBatch(marks: marks) }
        let (model, tokenizer, promptIDs, promptText) = try load(threads: context.threads)
        let size = model.config.vision.imageSize
        let images = try loadModelImages(todo, size: size, catalog: context.catalog)
        let good = images.filter { $0.pixels != nil }
        for bad in images where bad.pixels == nil {
            marks.append(ProgressMark(sampleID: bad.sample.id, status: bad.failure!.status, reason: bad.failure!.reason))
        }
        var captions: [(Int64, [String])] = []
        if !good.isEmpty {
            var c = config
            c.bosTokenID = model.config.text.bosTokenID
            c.eosTokenID = model.config.text.sepTokenID
            c.padTokenID = model.config.text.padTokenID
            c.seed = config.seed ^ FNV1a.hash(good[0].sample.source + "\u{0}" + good[0].sample.key)
            let states = model.encodeImages(stackPixels(good.map { $0.pixels! }, size: size))
            let out = CaptionGenerator(model: model).generate(imageStates: states, prompt: promptIDs, config: c)
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
            for (id, texts) in captions {
                try session.replaceSynthetic(sampleID: id, captions: texts, model: modelName, settings: settings,
                                             fingerprint: fingerprint)
            }
        }
    }
}
