import Foundation
import Tensor

/// Autoregressive captioning with BLIP's image-grounded decoder, following transformers'
/// `generate()` step by step: greedy (`_sample` without sampling), nucleus/top-k sampling, and
/// the vectorised beam search of transformers 5 (`_beam_search`), with a self-attention KV cache
/// and image keys/values computed once per image and shared by all of its sequences.
public struct CaptionGenerator: Sendable {
    public let model: BlipCaptioningModel
    public init(model: BlipCaptioningModel) { self.model = model }

    /// The decoder input for a prompt as BLIP builds it: tokenizer("[CLS] prompt [SEP]"), first
    /// id replaced by [DEC], last ([SEP]) dropped. No prompt: just [DEC].
    public static func promptIDs(_ prompt: String?, tokenizer: BertTokenizer, bos: Int = BertTokenizer.decID) -> [Int] {
        guard let prompt, !prompt.isEmpty else { return [bos] }
        var ids = tokenizer.encode(prompt)
        ids[0] = bos
        ids.removeLast()
        return ids
    }

    /// Captions for images [B, N, Dv] (the vision encoder's output): one array per image.
    ///
    /// Sampling gives every returned sequence its own random stream, seeded from its image's seed
    /// and its index among the image's captions (`SeededGenerator.sequenceSeed`), so a caption
    /// depends on its image, that seed and its index only: never on which other images share the
    /// batch or how many there are. `imageSeeds` has one seed per image; without it, image b of
    /// the batch gets `SeededGenerator.sequenceSeed(config.seed, b)`. Greedy and beam search
    /// ignore seeds.
    public func generate(imageStates: Tensor, prompt: [Int], config: GenerationConfig,
                         imageSeeds: [UInt64]? = nil) -> [[GeneratedSequence]] {
        switch config.strategy {
        case .beam(let width) where width > 1:
            return beamSearch(imageStates: imageStates, prompt: prompt, beams: width, config: config)
        default:
            let images = imageStates.dim(0)
            precondition(imageSeeds == nil || imageSeeds!.count == images, "one seed per image")
            let seeds = imageSeeds ?? (0..<images).map { SeededGenerator.sequenceSeed(config.seed, UInt64($0)) }
            return sampleOrGreedy(imageStates: imageStates, prompt: prompt, config: config, imageSeeds: seeds)
        }
    }

    /// Logits [S, V] of the last new position, after feeding `newIDs` ([S·t]) through the cache.
    private func step(_ newIDs: [Int], sequences: Int, cache: SelfAttentionCache,
                      cross: CrossAttentionCache, imageIndex: [Int]) -> Tensor {
        let t = newIDs.count / sequences
        let hidden = model.decoder.forward(ids: newIDs, sequences: sequences, mode: .decoder,
                                           cross: cross, imageIndex: imageIndex, cache: cache)
        let d = hidden.dim(2)
        let last = Tensor(shape: [sequences, d])
        for s in 0..<sequences { (last.data + s * d).update(from: hidden.data + (s * t + t - 1) * d, count: d) }
        return model.lmHead.logits(last)
    }

    // MARK: greedy and sampling

    private func sampleOrGreedy(imageStates: Tensor, prompt: [Int], config: GenerationConfig,
                                imageSeeds: [UInt64]) -> [[GeneratedSequence]] {
        let images = imageStates.dim(0)
        let n = max(1, config.numReturnSequences)
        let s = images * n
        let imageIndex = (0..<s).map { $0 / n }
        let cross = model.decoder.crossAttentionCache(imageStates: imageStates)
        let cache = SelfAttentionCache(layers: model.decoder.layers.count, sequences: s,
                                       capacity: max(config.maxLength, prompt.count), width: model.decoder.width)
        var sequences = Array(repeating: prompt, count: s)
        var finished = Array(repeating: false, count: s)
        // One stream per sequence: sequence j of image b draws only from its own.
        var rngs = (0..<s).map { SeededGenerator(seed: SeededGenerator.sequenceSeed(imageSeeds[$0 / n], UInt64($0 % n))) }
        let v = model.lmHead.vocabularySize
        var newIDs = sequences.flatMap { $0 }
        var length = prompt.count
        while length < config.maxLength && !finished.allSatisfy({ $0 }) {
            let logits = step(newIDs, sequences: s, cache: cache, cross: cross, imageIndex: imageIndex)
            newIDs = []
            for i in 0..<s {
                let row = logits.data + i * v
                applyRepetitionPenalty(row, history: sequences[i], penalty: config.repetitionPenalty)
                applyMinLength(row, length: length, minLength: config.minLength, eos: config.eosTokenID)
                var token: Int
                switch config.strategy {
                case .sample(let topP, let topK, let temperature):
                    applyTemperature(row, count: v, temperature: temperature)
                    applyTopK(row, count: v, k: topK)
                    applyTopP(row, count: v, p: topP)
                    token = sampleIndex(row, count: v, rng: &rngs[i])
                default:
                    token = argmax(row, count: v)
                }
                if finished[i] { token = config.padTokenID }
                if token == config.eosTokenID { finished[i] = true }
                sequences[i].append(token)
                newIDs.append(token)
            }
            length += 1
        }
        return (0..<images).map { b in
            (0..<n).map { j in
                GeneratedSequence(tokenIDs: trimmed(sequences[b * n + j], promptLength: prompt.count, eos: config.eosTokenID),
                                  score: nil)
            }
        }
    }

    // MARK: beam search

    private struct BeamItem {
        var running: [[Int]]          // num_beams running sequences, best first
        var runningScores: [Float]    // their summed log-probabilities
        var finished: [[Int]]         // num_beams slots, best first
        var finishedScores: [Float]   // length-normalised; -1e9 marks an empty slot
        var finishedFlags: [Bool]
        var improvable = true         // transformers' is_early_stop_heuristic_unsatisfied
    }

    private func beamSearch(imageStates: Tensor, prompt: [Int], beams k: Int, config: GenerationConfig) -> [[GeneratedSequence]] {
        let images = imageStates.dim(0), s = images * k, v = model.lmHead.vocabularySize
        let promptLength = prompt.count
        let cross = model.decoder.crossAttentionCache(imageStates: imageStates)
        let cache = SelfAttentionCache(layers: model.decoder.layers.count, sequences: s,
                                       capacity: max(config.maxLength, promptLength), width: model.decoder.width)
        let imageIndex = (0..<s).map { $0 / k }
        var items = (0..<images).map { _ in
            BeamItem(running: Array(repeating: prompt, count: k),
                     runningScores: [0] + Array(repeating: -1e9, count: k - 1),
                     finished: Array(repeating: prompt, count: k),
                     finishedScores: Array(repeating: -1e9, count: k),
                     finishedFlags: Array(repeating: false, count: k))
        }
        let keep = 2 * k                      // beams_to_keep with one end token
        var newIDs = Array(repeating: prompt, count: s).flatMap { $0 }
        var length = promptLength
        while true {
            let logits = step(newIDs, sequences: s, cache: cache, cross: cross, imageIndex: imageIndex)
            var source = [Int](repeating: 0, count: s)
            var allHitStop = true
            for b in 0..<images {
                var item = items[b]
                // Accumulated log-probs of every (beam, token) continuation; keep the top 2k.
                var candidates: [(score: Float, beam: Int, token: Int)] = []
                candidates.reserveCapacity(keep + 1)
                for j in 0..<k {
                    let row = logits.data + (b * k + j) * v
                    logSoftmax(row, count: v)
                    applyRepetitionPenalty(row, history: item.running[j], penalty: config.repetitionPenalty)
                    applyMinLength(row, length: length, minLength: config.minLength, eos: config.eosTokenID)
                    let base = item.runningScores[j]
                    for t in 0..<v {
                        let sc = row[t] + base
                        if candidates.count < keep || sc > candidates[candidates.count - 1].score {
                            insertSorted(&candidates, (sc, j, t), limit: keep)
                        }
                    }
                }
                let hitsStop = candidates.map { $0.token == config.eosTokenID || length + 1 >= config.maxLength }
                if !hitsStop.allSatisfy({ $0 }) { allHitStop = false }

                // Next running beams: the best k continuations that did not stop.
                let ranked = candidates.indices.sorted { a, c in
                    let sa = candidates[a].score + (hitsStop[a] ? -1e9 : 0)
                    let sc = candidates[c].score + (hitsStop[c] ? -1e9 : 0)
                    return sa != sc ? sa > sc : a < c
                }
                let nextIdx = Array(ranked.prefix(k))
                let previous = item.running

                // Finished hypotheses: among the top k candidates, those that stopped, scored by
                // log-prob / generated length, merged with the finished set.
                var mergedSeqs = item.finished, mergedScores = item.finishedScores, mergedFlags = item.finishedFlags
                let normaliser = Float(length + 1 - promptLength)
                for (r, c) in candidates.enumerated() {
                    var sc = c.score / normaliser
                    if !item.improvable { sc += -1e9 }
                    let justFinished = hitsStop[r] && r < k
                    if !justFinished { sc += -1e9 }
                    mergedSeqs.append(previous[c.beam] + [c.token])
                    mergedScores.append(sc)
                    mergedFlags.append(justFinished)
                }
                let best = mergedScores.indices.sorted { a, c in
                    mergedScores[a] != mergedScores[c] ? mergedScores[a] > mergedScores[c] : a < c
                }.prefix(k)
                item.finished = best.map { mergedSeqs[$0] }
                item.finishedScores = best.map { mergedScores[$0] }
                item.finishedFlags = best.map { mergedFlags[$0] }

                item.running = nextIdx.map { previous[candidates[$0].beam] + [candidates[$0].token] }
                item.runningScores = nextIdx.map { candidates[$0].score + (hitsStop[$0] ? -1e9 : 0) }
                for (j, c) in nextIdx.enumerated() { source[b * k + j] = b * k + candidates[c].beam }

                // Early-stop heuristic (early_stopping=False, length_penalty 1): stop improving once
                // every slot is finished and the best running beam cannot beat the worst finished one.
                let bestPossible = item.runningScores[0] / Float(length + 1 - promptLength)
                let worst = item.finishedFlags.allSatisfy({ $0 }) ? (item.finishedScores.min() ?? -1e9) : -1e9
                item.improvable = item.improvable && bestPossible > worst
                items[b] = item
            }
            length += 1
            if allHitStop || !items.contains(where: { $0.improvable }) { break }
            cache.reorder(source)
            newIDs = (0..<s).map { items[$0 / k].running[$0 % k].last! }
        }
        let n = min(max(1, config.numReturnSequences), k)
        return items.map { item in
            (0..<n).map { j in
                GeneratedSequence(tokenIDs: trimmed(item.finished[j], promptLength: promptLength, eos: config.eosTokenID),
                                  score: item.finishedScores[j])
            }
        }
    }
}

/// Keeps `list` sorted by descending score with at most `limit` entries; earlier entries win ties
/// (torch.topk on CPU returns the lower index first among equal values).
private func insertSorted(_ list: inout [(score: Float, beam: Int, token: Int)],
                          _ entry: (score: Float, beam: Int, token: Int), limit: Int) {
    var i = list.count
    while i > 0 && list[i - 1].score < entry.score { i -= 1 }
    if i >= limit { return }
    list.insert(entry, at: i)
    if list.count > limit { list.removeLast() }
}

/// The sequence up to and including its first end token after the prompt (drops padding).
func trimmed(_ ids: [Int], promptLength: Int, eos: Int) -> [Int] {
    if let e = ids[promptLength...].firstIndex(of: eos) { return Array(ids[...e]) }
    return ids
}

func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for i in 1..<count where row[i] > row[best] { best = i }
    return best
}

/// Draws an index with probability softmax(row) (entries at -inf are never drawn).
func sampleIndex(_ row: UnsafePointer<Float>, count: Int, rng: inout SeededGenerator) -> Int {
    var mx = -Float.infinity
    for i in 0..<count { mx = max(mx, row[i]) }
    var total: Double = 0
    for i in 0..<count where row[i] > -.infinity { total += Double(expf(row[i] - mx)) }
    let u = Double(rng.nextUnitFloat()) * total
    var acc: Double = 0
    var last = 0
    for i in 0..<count where row[i] > -.infinity {
        acc += Double(expf(row[i] - mx))
        last = i
        if acc > u { return i }
    }
    return last
}
