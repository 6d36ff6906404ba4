import Basics
import Dispatch
import Foundation
import Imaging
import MED
import Tensor

/// One image-text pair of a training set (BLIP's json lists: {"image": path, "caption": text}).
public struct TrainingPair: Sendable {
    public var imagePath: String
    public var caption: String
    /// The image's id, for retrieval fine-tuning (several captions of one image share it).
    public var imageID: Int?
    /// When set, the image is these bytes of the file at `imagePath` (a member of a tar shard).
    public var imageBytes: Range<Int>?

    public init(imagePath: String, caption: String, imageID: Int? = nil, imageBytes: Range<Int>? = nil) {
        self.imagePath = imagePath; self.caption = caption; self.imageID = imageID; self.imageBytes = imageBytes
    }

    /// Decodes the pair's image (a whole file, or a byte range of one).
    func decodeImage() throws -> RGBImage {
        guard let range = imageBytes else { return try ImageDecoder.decode(contentsOf: imagePath) }
        guard let handle = FileHandle(forReadingAtPath: imagePath) else { throw TrainingDataError("\(imagePath): cannot open") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        let data = try handle.read(upToCount: range.count) ?? Data()
        return try ImageDecoder.decode([UInt8](data))
    }
}

public struct DataLoaderOptions: Sendable {
    public var batchSize: Int
    /// BLIP's training transform (RandomResizedCrop, flip, RandAugment, normalise); its size is the image size.
    public var transform: BlipTrainTransform
    /// Token limit including [CLS] and [SEP] (BLIP: 30 for pre-training, 35 for retrieval).
    public var maxTokens: Int = 30
    /// `pre_caption` word limit (BLIP: 30 for pre-training, 50 otherwise).
    public var maxWords: Int = 30
    /// Pad every batch to `maxTokens` (BLIP's pre-training, padding='max_length') or to its longest text.
    public var padToMaxTokens: Bool = true
    /// Prepended to every caption after cleaning (the captioner's "a picture of ").
    public var prompt: String = ""
    public var seed: UInt64 = 0

    public init(batchSize: Int, transform: BlipTrainTransform) {
        self.batchSize = batchSize; self.transform = transform
    }

    /// BLIP's settings: pre-training (224 px in the paper, crop scale 0.2...1, 30 tokens and words)
    /// or fine-tuning (crop scale 0.5...1, 35 tokens, 50 words); RandAugment(2, 5) and flips in both.
    public init(batchSize: Int, imageSize: Int, pretraining: Bool, seed: UInt64 = 0) {
        self.init(batchSize: batchSize, transform: BlipTrainTransform(size: imageSize, scale: pretraining ? (0.2, 1) : (0.5, 1)))
        maxTokens = pretraining ? 30 : 35
        maxWords = pretraining ? 30 : 50
        self.seed = seed
    }
}

/// A batch ready for a training step, with the ids of its images and the pairs that could not be read.
public struct LoadedBatch: @unchecked Sendable {
    public var batch: PretrainingBatch
    public var imageIDs: [Int]?
    /// Indices (into the pair list) of unreadable images, each replaced by the next readable pair of the epoch's order.
    public var unreadable: [Int]
}

/// Seeded, resumable batches of decoded and augmented images: the order of epoch e is a
/// permutation drawn from (seed, e), and each sample's augmentation from (seed, e, position), so
/// batch (e, k) is the same whichever thread makes it and whenever (a resumed run continues at
/// its step). Images are decoded and augmented on worker threads; `stream(from:)` prepares the
/// next batch while the caller trains on the current one.
public final class TrainingDataLoader: @unchecked Sendable {
    public let pairs: [TrainingPair]
    public let tokenizer: BertTokenizer
    public let options: DataLoaderOptions

    public init(pairs: [TrainingPair], tokenizer: BertTokenizer, options: DataLoaderOptions) {
        precondition(options.batchSize > 0 && pairs.count >= options.batchSize, "data: fewer pairs than one batch")
        self.pairs = pairs; self.tokenizer = tokenizer; self.options = options
    }

    /// Full batches per epoch (the last partial batch is dropped, as BLIP's drop_last).
    public var batchesPerEpoch: Int { pairs.count / options.batchSize }

    /// The pair indices of epoch `epoch` in training order (Fisher-Yates with a seeded generator).
    public func order(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: mix(options.seed, UInt64(epoch), 0x5EED))
        var order = Array(pairs.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return order
    }

    /// Batch `index` of epoch `epoch`.
    public func batch(epoch: Int, index: Int) -> LoadedBatch {
        precondition(index >= 0 && index < batchesPerEpoch, "data: batch \(index) outside the epoch")
        let order = self.order(epoch: epoch), b = options.batchSize, size = options.transform.size
        let plane = 3 * size * size
        let pixels = Tensor(shape: [b, 3, size, size])
        let slots = Locked([(pair: Int, unreadable: [Int])](repeating: (0, []), count: b))
        DispatchQueue.concurrentPerform(iterations: b) { slot in
            let position = index * b + slot
            var unreadable: [Int] = []
            // An unreadable image is replaced by the next readable pair in the epoch's order.
            for offset in 0..<order.count {
                let pair = order[(position + offset) % order.count]
                guard let image = try? pairs[pair].decodeImage() else {
                    unreadable.append(pair); continue
                }
                var rng = SplitMix64(seed: mix(options.seed, UInt64(epoch), UInt64(position)))
                let values = options.transform(image, using: &rng)
                // Each iteration writes its own slot of the (Sendable) tensor.
                values.withUnsafeBufferPointer { pixels.data.advanced(by: slot * plane).update(from: $0.baseAddress!, count: plane) }
                slots.withLock { $0[slot] = (pair, unreadable) }
                return
            }
            fatalError("data: no readable image in the whole set")
        }
        let chosen = slots.current.map(\.pair)
        let texts = chosen.map { pair -> [Int] in
            let caption = options.prompt + preCaption(pairs[pair].caption, maxWords: options.maxWords)
            return tokenizer.encode(caption, maxLength: options.maxTokens)
        }
        let (ids, mask) = BertTokenizer.padded(texts, length: options.padToMaxTokens ? options.maxTokens : nil)
        let imageIDs = chosen.allSatisfy { pairs[$0].imageID != nil } ? chosen.map { pairs[$0].imageID! } : nil
        return LoadedBatch(batch: PretrainingBatch(pixels: pixels, ids: ids, attentionMask: mask),
                           imageIDs: imageIDs, unreadable: slots.current.flatMap(\.unreadable))
    }

    /// Batches from global step `step` on (epoch = step / batchesPerEpoch), each prepared on a
    /// background queue while the previous one is in use.
    public func stream(from step: Int = 0) -> BatchStream { BatchStream(loader: self, step: step) }
}

/// Batches in order with one batch of look-ahead.
public final class BatchStream: @unchecked Sendable {
    let loader: TrainingDataLoader
    public private(set) var step: Int
    private let queue = DispatchQueue(label: "capfilt.training.data")
    private let ready = DispatchSemaphore(value: 0)
    private var pending: LoadedBatch?

    init(loader: TrainingDataLoader, step: Int) {
        self.loader = loader; self.step = step
        prepare(step)
    }

    private func prepare(_ step: Int) {
        let per = loader.batchesPerEpoch
        queue.async { [self] in
            pending = loader.batch(epoch: step / per, index: step % per)
            ready.signal()
        }
    }

    /// The batch of the current step; starts preparing the next.
    public func next() -> LoadedBatch {
        ready.wait()
        let batch = queue.sync { pending! }
        step += 1
        prepare(step)
        return batch
    }
}

/// SplitMix64-style mixing of a seed with two counters.
func mix(_ seed: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (a &+ 1) &+ 0xBF58_476D_1CE4_E5B9 &* (b &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
