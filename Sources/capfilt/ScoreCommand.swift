import ArgumentParser
import Basics
import Foundation
import Imaging
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
    @Flag(name: .customLong("no-pre-caption"),
          help: "Score texts as given: no BLIP pre_caption (lower case, punctuation dropped, at most --max-words words).")
    var noPreCaption = false
    @Option(name: .customLong("max-words"), help: "Words kept by pre_caption, as the filter stage's max_words.")
    var maxWords: Int = ScoringText.blip.maxWords
    @Option(name: .customLong("max-tokens"), help: "Tokens kept with [CLS] and [SEP], as the filter stage's max_tokens.")
    var maxTokens: Int = ScoringText.blip.maxTokens

    func validate() throws {
        if pairs == nil && (image == nil || text == nil) {
            throw ValidationError("give --image and --text, or --pairs FILE.tsv")
        }
        if pairs != nil && (image != nil || text != nil) {
            throw ValidationError("--pairs cannot be combined with --image / --text")
        }
        guard maxWords >= 1, maxTokens >= 2 else { throw ValidationError("--max-words must be at least 1, --max-tokens at least 2") }
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
        let scorer: ITMScorer
        let work: [(image: String, text: String, error: String?)]
        if let summary = ModelFolderCheck.summary(ModelFolderCheck.problems(folder: folder, for: .retrieval)) {
            Output.error("error: cannot use \(folder.path) as a \(BlipArchitecture.retrieval.rawValue): \(summary)")
            throw ExitCode(2)
        }
        do {
            let model = try BlipRetrievalModel(folder: folder, precision: engine.precision)
            scorer = ITMScorer(model: model, tokenizer: try BertTokenizer(modelFolder: folder), firstToken: firstToken,
                               text: ScoringText(clean: !noPreCaption, maxWords: maxWords, maxTokens: maxTokens))
            work = try loadPairs()
        } catch {
            Output.error("error: \(error)")
            throw ExitCode(2)
        }
        let transform = BlipImageTransform(size: scorer.imageSize)
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
            let decoded = Dictionary(uniqueKeysWithValues: zip(groupImages, transform.transformFiles(groupImages)))
            let good = groupImages.compactMap { path in (try? decoded[path]!.get()).map { (path: path, pixels: $0) } }
            let slot = Dictionary(uniqueKeysWithValues: good.enumerated().map { ($1.path, $0) })
            let pairsHere = Array(work[index..<end])
            let scored = pairsHere.indices.filter { pairsHere[$0].error == nil && slot[pairsHere[$0].image] != nil }
            let results = scorer.score(scored.map { (slot[pairsHere[$0].image]!, pairsHere[$0].text) },
                                       images: good.map(\.pixels))
            let scores = Dictionary(uniqueKeysWithValues: zip(scored, results))
            for (i, pair) in pairsHere.enumerated() {
                if let s = scores[i] {
                    // The model computes in Float; printed as it computed them.
                    let itm = Float(s.itm), itc = Float(s.itc)
                    if json {
                        Output.json(.orderedObject([("image", .string(pair.image)), ("text", .string(pair.text)),
                                             ("itm", .printed(itm)), ("itc", .printed(itc))]))
                    } else {
                        Output.line("\(pair.image)\t\(pair.text)\t\(itm)\t\(itc)")
                    }
                } else {
                    failures += 1
                    var reason = pair.error ?? "unknown"
                    if pair.error == nil, case .failure(let error)? = decoded[pair.image] { reason = "\(error)" }
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

