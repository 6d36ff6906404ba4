import Tensor

/// Image-text matching with a retrieval model: for (image slot, text) pairs over a batch of
/// images, the ITM match probability (`softmax(itm_logits)[1]`) and the ITC cosine of the
/// projected features. Each image is encoded once, however many texts it has.
public struct ITMScorer: Sendable {
    public let model: BlipRetrievalModel
    public let tokenizer: BertTokenizer
    public let firstToken: ITMFirstToken
    public let text: ScoringText

    public init(model: BlipRetrievalModel, tokenizer: BertTokenizer, firstToken: ITMFirstToken, text: ScoringText = .blip) {
        self.model = model; self.tokenizer = tokenizer; self.firstToken = firstToken; self.text = text
    }

    /// The side of the square images the model takes.
    public var imageSize: Int { model.config.vision.imageSize }

    /// Scores of `pairs` in order; `images` are BLIP-transformed pixels ([3, S, S] each) and
    /// a pair's `image` is its index in `images`.
    public func score(_ pairs: [(image: Int, text: String)], images: [[Float]]) -> [(itm: Double, itc: Double)] {
        scoreWithEmbeddings(pairs, images: images).scores
    }

    /// The normalised ITC embeddings of `images` (BLIP-transformed pixels), one row each: what
    /// `scoreWithEmbeddings` returns for them, without the texts.
    public func imageEmbeddings(_ images: [[Float]]) -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let features = model.imageFeatures(imageStates: model.encodeImages(ImageBatch.stack(images, size: imageSize)))
        let p = features.dim(1)
        return (0..<images.count).map { i in (0..<p).map { features[flat: i * p + $0] } }
    }

    /// Scores, and the normalised ITC embeddings they came from: one per image, one per pair's
    /// text (`embedDim` values each).
    public func scoreWithEmbeddings(_ pairs: [(image: Int, text: String)], images: [[Float]])
        -> (scores: [(itm: Double, itc: Double)], images: [[Float]], texts: [[Float]]) {
        guard !pairs.isEmpty else { return ([], [], []) }
        let states = model.encodeImages(ImageBatch.stack(images, size: imageSize))
        let encoded = pairs.map { text.encode($0.text, tokenizer: tokenizer, maxPositions: model.config.text.maxPositionEmbeddings) }
        let (ids, valid) = BertTokenizer.padded(encoded)
        let imageIndex = pairs.map(\.image)
        let grounded = model.groundedHidden(ids: ids, sequences: pairs.count, keyValid: valid, imageStates: states,
                                            imageIndex: imageIndex, firstToken: firstToken)
        let probabilities = matchProbabilities(model.itmLogits(groundedHidden: grounded))
        let textFeatures = model.textFeatures(textHidden: model.textHidden(ids: ids, sequences: pairs.count, keyValid: valid))
        let imageFeatures = model.imageFeatures(imageStates: states)
        let p = textFeatures.dim(1)
        let scores = pairs.enumerated().map { (k, pair) in
            // Summed in Float, first to last, as the stored scores always were.
            var cosine: Float = 0
            for j in 0..<p { cosine += imageFeatures[flat: pair.image * p + j] * textFeatures[flat: k * p + j] }
            return (itm: Double(probabilities[k]), itc: Double(cosine))
        }
        let imageRows = (0..<images.count).map { i in (0..<p).map { imageFeatures[flat: i * p + $0] } }
        let textRows = (0..<pairs.count).map { k in (0..<p).map { textFeatures[flat: k * p + $0] } }
        return (scores, imageRows, textRows)
    }
}
