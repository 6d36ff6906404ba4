import ArgumentParser
import Basics
import Foundation
import MED
import Tensor

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Image-text matching (ITM probability) and ITC cosine with a BlipForImageTextRetrieval folder.")

    @OptionGroup var engine: EngineOptions
    @Flag(help: "One JSON line per pair: {image, text, itm, itc}.") var json = false
    @Option(name: .customLong("first-token"),
            help: "First token of the image-grounded encoder: cls (Hugging Face) or enc (BLIP's retrieval code).")
    var firstToken: ITMFirstToken = .cls
    @Option(help: "One image (with --text).") var image: String?
    @Option(help: "One text (with --image).") var text: String?
    @Option(help: "A TSV file of image<TAB>text lines.") var pairs: String?

    func validate() throws {
        if pairs == nil && (image == nil || text == nil) {
            throw ValidationError("give --image and --text, or --pairs FILE.tsv")
        }
        if pairs != nil && (image != nil || text != nil) {
            throw ValidationError("--pairs cannot be combined with --image / --text")
        }
    }

    func loadPairs() throws -> [(image: String, text: String, error: String?)] {
        guard let pairs else { return [(image!, text!, nil)] }
        let content = try String(contentsOfFile: pairs, encoding: .utf8)
        var out: [(String, String, String?)] = []
        for (n, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if fields.count != 2 {
                out.append((String(line), "", "\(pairs):\(n + 1): expected image<TAB>text"))
            } else {
                out.append((String(fields[0]), String(fields[1]), nil))
            }
        }
        return out
    }

    func run() throws {
        setEngineThreads(engine.threads)
        let folder = URL(fileURLWithPath: engine.model)
        let model: BlipRetrievalModel
        let tokenizer: BertTokenizer
        let work: [(image: String, text: String, error: String?)]
        do {
            model = try BlipRetrievalModel(folder: folder, precision: engine.precision)
            tokenizer = try BertTokenizer(modelFolder: folder)
            work = try loadPairs()
        } catch {
            Output.error("error: \(error)")
            throw ExitCode(2)
        }
        let size = model.config.vision.imageSize
        let maxTokens = model.config.text.maxPositionEmbeddings
        var failures = 0

        // Pairs are processed in groups of up to batch-size distinct images; each image is encoded once.
        var index = 0
        while index < work.count {
            var groupImages: [String] = []
            var end = index
            while end < work.count {
                let path = work[end].image
                if !groupImages.contains(path) {
                    if groupImages.count == engine.batchSize { break }
                    groupImages.append(path)
                }
                end += 1
            }
            let prepared = ImageInput.prepare(groupImages, size: size)
            let good = prepared.filter { $0.pixels != nil }
            let slot = Dictionary(uniqueKeysWithValues: good.enumerated().map { ($1.path, $0) })
            let pairsHere = Array(work[index..<end])
            let ok = pairsHere.filter { $0.error == nil && slot[$0.image] != nil }
            var scores: [Int: (itm: Float, itc: Float)] = [:]
            if !ok.isEmpty {
                let states = model.encodeImages(ImageInput.stack(good, size: size))
                let encoded = ok.map { tokenizer.encode($0.text, maxLength: maxTokens) }
                let (ids, valid) = BertTokenizer.padded(encoded)
                let imageIndex = ok.map { slot[$0.image]! }
                let grounded = model.groundedHidden(ids: ids, sequences: ok.count, keyValid: valid, imageStates: states,
                                                    imageIndex: imageIndex, firstToken: firstToken)
                let probabilities = matchProbabilities(model.itmLogits(groundedHidden: grounded))
                let textFeatures = model.textFeatures(textHidden: model.textHidden(ids: ids, sequences: ok.count, keyValid: valid))
                let imageFeatures = model.imageFeatures(imageStates: states)
                let p = textFeatures.dim(1)
                var k = 0
                for (i, pair) in pairsHere.enumerated() where pair.error == nil && slot[pair.image] != nil {
                    let img = imageIndex[k]
                    var cosine: Float = 0
                    for j in 0..<p { cosine += imageFeatures[flat: img * p + j] * textFeatures[flat: k * p + j] }
                    scores[i] = (probabilities[k], cosine)
                    k += 1
                }
            }
            for (i, pair) in pairsHere.enumerated() {
                if let s = scores[i] {
                    if json {
                        Output.json(.orderedObject([("image", .string(pair.image)), ("text", .string(pair.text)),
                                             ("itm", .printed(s.itm)), ("itc", .printed(s.itc))]))
                    } else {
                        Output.line("\(pair.image)\t\(pair.text)\t\(s.itm)\t\(s.itc)")
                    }
                } else {
                    failures += 1
                    let reason = pair.error ?? prepared.first(where: { $0.path == pair.image })?.error ?? "unknown"
                    if json {
                        Output.json(.orderedObject([("image", .string(pair.image)), ("text", .string(pair.text)),
                                             ("error", .string(reason))]))
                    } else {
                        Output.error("\(pair.image)\t\(pair.text)\terror: \(reason)")
                    }
                }
            }
            index = end
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

extension ITMFirstToken: ExpressibleByArgument {}

