import ArgumentParser
import Basics
import Foundation
import Imaging
import MED
import Tensor

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Caption images with a BlipForConditionalGeneration model folder.")

    @OptionGroup var engine: EngineOptions
    @Flag(help: "One JSON line per image: {image, captions: [{text, token_ids, score}]}.") var json = false
    @Option(help: "Beam width; 1 is greedy.") var beams = 3
    @Flag(help: "Nucleus / top-k sampling instead of beam search.") var sample = false
    @Option(name: .customLong("top-p")) var topP: Float = 0.9
    @Option(name: .customLong("top-k"), help: "0 disables top-k.") var topK = 0
    @Option var temperature: Float = 1
    @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Float = 1
    @Option var seed: UInt64 = 0
    @Option(name: .customLong("max-length"), help: "Counts [DEC] and the prompt.") var maxLength = 20
    @Option(name: .customLong("min-length"), help: "Counts [DEC] and the prompt.") var minLength = 5
    @Option(help: "Text the caption continues, e.g. \"a picture of \"; stripped from the output text.") var prompt: String?
    @Option(name: .customLong("num-captions")) var numCaptions = 1
    @Argument(help: "Image files (JPEG, PNG, WebP).") var images: [String]

    func validate() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be at least 1") }
        guard maxLength >= 1, minLength >= 0 else { throw ValidationError("--max-length / --min-length out of range") }
        guard numCaptions >= 1 else { throw ValidationError("--num-captions must be at least 1") }
        guard !sample || (topP > 0 && topP <= 1) else { throw ValidationError("--top-p must be in (0, 1]") }
        guard sample || numCaptions <= beams else { throw ValidationError("--num-captions cannot exceed --beams") }
    }

    var generationConfig: GenerationConfig {
        var c = GenerationConfig()
        c.strategy = sample ? .sample(topP: topP, topK: topK, temperature: temperature)
                            : (beams == 1 ? .greedy : .beam(width: beams))
        c.maxLength = maxLength; c.minLength = minLength
        c.repetitionPenalty = repetitionPenalty
        c.numReturnSequences = numCaptions
        c.seed = seed
        return c
    }

    func run() throws {
        setEngineThreads(engine.threads)
        let folder = URL(fileURLWithPath: engine.model)
        let model: BlipCaptioningModel
        let tokenizer: BertTokenizer
        if let summary = ModelFolderCheck.summary(ModelFolderCheck.problems(folder: folder, for: .captioning)) {
            Output.error("error: cannot use \(folder.path) as a \(BlipArchitecture.captioning.rawValue): \(summary)")
            throw ExitCode(2)
        }
        do {
            model = try BlipCaptioningModel(folder: folder, precision: engine.precision)
            tokenizer = try BertTokenizer(modelFolder: folder)
        } catch {
            Output.error("error: \(error)")
            throw ExitCode(2)
        }
        let generator = CaptionGenerator(model: model)
        var config = generationConfig
        config.bosTokenID = model.config.text.bosTokenID
        config.eosTokenID = model.config.text.sepTokenID
        config.padTokenID = model.config.text.padTokenID
        let promptIDs = CaptionGenerator.promptIDs(prompt, tokenizer: tokenizer, bos: config.bosTokenID)
        let promptText = tokenizer.decode(promptIDs, skipSpecialTokens: true)
        let size = model.config.vision.imageSize
        let transform = BlipImageTransform(size: size)
        var failures = 0

        for start in stride(from: 0, to: images.count, by: engine.batchSize) {
            let paths = Array(images[start..<min(images.count, start + engine.batchSize)])
            let decoded = transform.transformFiles(paths)
            let good = zip(paths.indices, zip(paths, decoded)).compactMap { index, item in
                (try? item.1.get()).map { (index: start + index, path: item.0, pixels: $0) }
            }
            var results: [String: [GeneratedSequence]] = [:]
            if !good.isEmpty {
                // Sampling seeds each image from --seed and its position on the command line, so
                // --batch-size never changes a caption; greedy and beam search ignore the seed.
                let states = model.encodeImages(ImageBatch.stack(good.map(\.pixels), size: size))
                let seeds = good.map { SeededGenerator.sequenceSeed(config.seed, UInt64($0.index)) }
                let out = generator.generate(imageStates: states, prompt: promptIDs, config: config, imageSeeds: seeds)
                for (image, seqs) in zip(good, out) { results[image.path] = seqs }
            }
            for (path, result) in zip(paths, decoded) {
                guard let seqs = results[path] else {
                    failures += 1
                    var reason = "unknown"
                    if case .failure(let error) = result { reason = "\(error)" }
                    if json {
                        Output.json(.orderedObject([("image", .string(path)), ("error", .string(reason))]))
                    } else {
                        Output.error("\(path)\terror: \(reason)")
                    }
                    continue
                }
                let captions = seqs.map { seq -> (text: String, ids: [Int], score: Float?) in
                    var text = tokenizer.decode(seq.tokenIDs, skipSpecialTokens: true)
                    if !promptText.isEmpty, text.hasPrefix(promptText) {
                        text = String(text.dropFirst(promptText.count)).trimmingCharacters(in: .whitespaces)
                    }
                    return (text, seq.tokenIDs, seq.score)
                }
                if json {
                    Output.json(.orderedObject([
                        ("image", .string(path)),
                        ("captions", .array(captions.map { c in
                            .orderedObject([("text", .string(c.text)), ("token_ids", .array(c.ids.map { .int($0) })),
                                     ("score", c.score.map { .printed($0) } ?? .null)])
                        })),
                    ]))
                } else {
                    for c in captions { Output.line("\(path)\t\(c.text)") }
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
