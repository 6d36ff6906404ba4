import Evaluation
import Foundation
import Imaging
import MED
import Tensor

/// A clean test split (Karpathy json: `[{image, caption: [...]}]`) and the two ways the
/// evaluate stage uses it: ranking all texts against all images, and captioning every image.
struct TestSplit {
    var images: [String]
    var references: [[String]]
    /// Every text with its image's index, in image order.
    var texts: [String]
    var textImage: [Int]

    init(path: String, limit: Int) throws {
        guard let json = readJSON(path: path),
              let entries = captionList(json, imageRoot: (path as NSString).deletingLastPathComponent, limit: limit) else {
            throw StageFailure(.io, "\(path): expected a JSON list of {image, caption}")
        }
        images = []; references = []; texts = []; textImage = []
        for (image, captions) in entries {
            images.append(image)
            references.append(captions)
            for c in captions { texts.append(c); textImage.append(images.count - 1) }
        }
        guard !images.isEmpty else { throw StageFailure(.noData, "\(path): no test images") }
    }

    /// Model inputs of every image, decoded and transformed on all cores.
    func pixels(size: Int) throws -> [[Float]] {
        try BlipImageTransform(size: size).transformFiles(images).map { try $0.get() }
    }

    /// R@1/5/10 from the ITC cosine of every image with every text.
    func retrieval(model: BlipRetrievalModel, tokenizer: BertTokenizer, batch: Int = 64) throws -> RetrievalRecall {
        let size = model.config.vision.imageSize
        let all = try pixels(size: size)
        var imageFeatures: [[Float]] = []
        for start in stride(from: 0, to: all.count, by: batch) {
            let chunk = Array(all[start..<min(all.count, start + batch)])
            imageFeatures += rows(model.imageFeatures(imageStates: model.encodeImages(ImageBatch.stack(chunk, size: size))))
        }
        var textFeatures: [[Float]] = []
        let limit = min(35, model.config.text.maxPositionEmbeddings)
        for start in stride(from: 0, to: texts.count, by: batch) {
            let encoded = texts[start..<min(texts.count, start + batch)].map { tokenizer.encode(preCaption($0, maxWords: 50), maxLength: limit) }
            let (ids, valid) = BertTokenizer.padded(encoded)
            textFeatures += rows(model.textFeatures(textHidden: model.textHidden(ids: ids, sequences: encoded.count, keyValid: valid)))
        }
        var scores = [Double](repeating: 0, count: images.count * texts.count)
        for (i, a) in imageFeatures.enumerated() {
            for (t, b) in textFeatures.enumerated() {
                var dot: Float = 0
                for j in 0..<a.count { dot += a[j] * b[j] }
                scores[i * texts.count + t] = Double(dot)
            }
        }
        return Retrieval.recall(SimilarityMatrix(imageCount: images.count, textCount: texts.count, scores: scores),
                                textImage: textImage, ks: [1, 5, 10])
    }

    /// One greedy caption per image, the prompt stripped.
    func captions(model: BlipCaptioningModel, tokenizer: BertTokenizer, prompt: String, maxLength: Int, minLength: Int,
                  batch: Int = 32) throws -> [String] {
        let size = model.config.vision.imageSize
        let all = try pixels(size: size)
        let promptIDs = CaptionGenerator.promptIDs(prompt.isEmpty ? nil : prompt, tokenizer: tokenizer, bos: model.config.text.bosTokenID)
        let promptText = tokenizer.decode(promptIDs, skipSpecialTokens: true)
        var config = GenerationConfig()
        config.strategy = .greedy
        config.maxLength = maxLength
        config.minLength = minLength
        config.bosTokenID = model.config.text.bosTokenID
        config.eosTokenID = model.config.text.sepTokenID
        config.padTokenID = model.config.text.padTokenID
        var out: [String] = []
        for start in stride(from: 0, to: all.count, by: batch) {
            let chunk = Array(all[start..<min(all.count, start + batch)])
            let states = model.encodeImages(ImageBatch.stack(chunk, size: size))
            for sequences in CaptionGenerator(model: model).generate(imageStates: states, prompt: promptIDs, config: config) {
                var text = sequences.first.map { tokenizer.decode($0.tokenIDs, skipSpecialTokens: true) } ?? ""
                if !promptText.isEmpty, text.hasPrefix(promptText) { text = String(text.dropFirst(promptText.count)) }
                out.append(text.trimmingCharacters(in: .whitespaces))
            }
        }
        return out
    }

    private func rows(_ t: Tensor) -> [[Float]] {
        let n = t.dim(0), w = t.dim(1)
        return (0..<n).map { i in (0..<w).map { t[flat: i * w + $0] } }
    }
}
