import ArgumentParser
import Basics
import Foundation
import SemanticDedup
import Tensor

/// `capfilt-bench semdedup`: semantic dedup at scale. `--rows` random unit vectors (256-d), of
/// which `--planted` are near-copies of others (the original plus small noise, cosine about
/// `--copy-similarity`); spherical k-means, then within-cluster duplicates at `--epsilon`. Then an
/// update: `--new-share` more rows (with their own planted copies, of old and of new rows)
/// assigned to the existing centroids and compared within their clusters. Reports recall and
/// precision against the planted pairs, wall time and peak RSS, as one JSON line.
struct SemanticDedupBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "semdedup", abstract: "Time semantic dedup of random embeddings with planted near-duplicates.")

    @Option var rows = 1_000_000
    @Option var dimension = 256
    @Option(name: .customLong("planted-share")) var plantedShare = 0.01
    @Option(name: .customLong("new-share")) var newShare = 0.01
    @Option var clusters = 1_000
    @Option(name: .customLong("sample-size")) var sampleSize = 100_000
    @Option var iterations = 10
    @Option var epsilon: Float = 0.05
    @Option(name: .customLong("copy-noise"), help: "Noise per coordinate of a planted copy, before normalising.")
    var copyNoise: Float = 0.01
    @Option var threads = 2
    @Option var seed: UInt64 = 1
    @Option(help: "Also write the results as markdown here.") var report: String?

    func run() throws {
        setEngineThreads(threads)
        var rng = SplitMix64(seed: seed)
        let firstRng = rng   // to draw the first rows again for the stored-state pass
        let newRows = Int(Double(rows) * newShare)
        // Rows 0..<rows are the first pass; the rest the update. copies[i] = the row row i copies.
        let (values, copyOf) = generate(count: rows, base: EmbeddingMatrix(dimension: dimension), baseRows: [], rng: &rng)
        let full = EmbeddingMatrix(dimension: dimension, values: consume values)
        let firstCount = full.count

        let start = monotonicSeconds()
        let kmeans = SphericalKMeans(clusters: clusters, iterations: iterations, sampleSize: sampleSize, seed: seed)
        let centroids = kmeans.fit(full)
        let fitted = monotonicSeconds()
        let (cluster, _) = kmeans.assign(full, to: centroids)
        let assigned = monotonicSeconds()
        // Rank: originals before copies (a stand-in for "higher ITM first"), then by row.
        let rank = (0..<firstCount).map { copyOf[$0] == nil ? 0 : 1 }
        let drops = SemanticDuplicates(epsilon: epsilon).find(full, cluster: cluster, rank: rank)
        let firstPass = score(drops, copyOf: copyOf, rows: 0..<firstCount)

        // What the full pass leaves for updates: its kept rows, marked in place.
        let dropped = Set(drops.map { $0.row })
        let kept = KeptRows(full, cluster: cluster, keep: { !dropped.contains($0) })
        let done = monotonicSeconds()

        // The update: new rows, some copying kept old ones, some copying new ones.
        let keptRows = kept.rows
        let (newValues, keptCopyOf) = generate(count: newRows, base: full, baseRows: keptRows, rng: &rng)
        // Copies of stored rows name them by their row in the first pass.
        let newCopyOf = keptCopyOf.map { $0.map { $0 < keptRows.count ? keptRows[$0] : $0 - keptRows.count + firstCount } }
        let new = EmbeddingMatrix(dimension: dimension, values: consume newValues)
        let newRank = newCopyOf.map { $0 == nil ? 0 : 1 }
        // The update is short next to the noise of a shared machine: the median of three.
        var updateTimes: [Double] = []
        var updateDrops: [SemanticDuplicates.UpdateDrop] = []
        for _ in 0..<3 {
            let updateStart = monotonicSeconds()
            let (newCluster, _) = kmeans.assign(new, to: centroids)
            updateDrops = SemanticDuplicates(epsilon: epsilon).findUpdate(kept, new: new, cluster: newCluster, rank: newRank)
            updateTimes.append(monotonicSeconds() - updateStart)
        }
        let updateSeconds = updateTimes.sorted()[1]
        var allCopyOf = copyOf
        allCopyOf += newCopyOf
        let mapped = updateDrops.map { d -> SemanticDuplicates.Drop in
            let keeper: Int
            switch d.keeper {
            case .kept(let id): keeper = id
            case .new(let row): keeper = firstCount + row
            }
            return SemanticDuplicates.Drop(row: firstCount + d.newRow, keptRow: keeper, similarity: d.similarity)
        }
        let update = score(mapped, copyOf: allCopyOf, rows: firstCount..<(firstCount + newRows))
        let peakBeforeStored = peakResidentBytes()

        // The dedup stage's path: the state the full pass leaves (SemanticDedupState), written and
        // read back, then the same update through SemanticDedupUpdate on every row, old and new
        // (finding the new rows, assigning them, laying out the kept rows, findUpdate).
        typealias Key = SemanticDedupState.RowKey
        let keys = (0..<(firstCount + newRows)).map { Key(shard: 0, id: Int64($0)) }
        var keeperOf: [Int: SemanticDuplicates.Drop] = [:]
        for d in drops { keeperOf[d.row] = d }
        let settings = SemanticDedupState.Settings(dimension: dimension, clusters: clusters, epsilon: Double(epsilon), model: "bench")
        let state = SemanticDedupState(settings: settings, centroids: centroids, rows: (0..<firstCount).map {
            SemanticDedupState.Row(key: keys[$0], cluster: cluster[$0], keeper: keeperOf[$0].map { keys[$0.keptRow] },
                                   similarity: keeperOf[$0]?.similarity ?? 1)
        })
        let encodeStart = monotonicSeconds()
        let bytes = state.encoded()
        let encoded = monotonicSeconds()
        let decoded = try SemanticDedupState(decoding: bytes)
        let decodedAt = monotonicSeconds()
        var again = firstRng
        var (allValues, _) = generate(count: rows, base: EmbeddingMatrix(dimension: dimension), baseRows: [], rng: &again)
        allValues += new.values
        let allRank = rank + newRank
        // The embeddings loaded and normalised before the clock starts, as for the full pass.
        let allRows = EmbeddingMatrix(dimension: dimension, values: consume allValues)
        var storedTimes: [Double] = []
        var storedRun: (state: SemanticDedupState, drops: [SemanticDedupUpdate.Drop], mode: SemanticDedupUpdate.Mode)?
        for _ in 0..<3 {
            let storedStart = monotonicSeconds()
            storedRun = SemanticDedupUpdate(settings: settings)
                .run(previous: decoded, recluster: false, keys: keys, data: allRows, rank: allRank)
            storedTimes.append(monotonicSeconds() - storedStart)
        }
        let stored = storedRun!
        let storedSeconds = storedTimes.sorted()[1]
        let storedNewDrops = stored.drops.filter { $0.row >= firstCount }.map { [$0.row, $0.keeper] }
        let sameAsUpdate = stored.mode == .incremental(new: newRows, removed: 0)
            && storedNewDrops == mapped.map { [$0.row, $0.keptRow] }

        let fullSeconds = done - start
        let result: JSONValue = .orderedObject([
            ("rows", .int(rows)), ("dimension", .int(dimension)), ("clusters", .int(centroids.count)),
            ("epsilon", .double(Double(epsilon))), ("threads", .int(threads)),
            ("planted", .int(firstPass.planted)), ("found", .int(firstPass.found)), ("dropped", .int(drops.count)),
            ("recall", .double(firstPass.recall)), ("precision", .double(firstPass.precision)),
            ("fit_seconds", .double(fitted - start)), ("assign_seconds", .double(assigned - fitted)),
            ("pairs_seconds", .double(done - assigned)), ("full_seconds", .double(fullSeconds)),
            ("update_rows", .int(newRows)), ("update_planted", .int(update.planted)), ("update_recall", .double(update.recall)),
            ("update_precision", .double(update.precision)), ("update_seconds", .double(updateSeconds)),
            ("update_seconds_runs", .array(updateTimes.map { .double($0) })),
            ("update_share_of_full", .double(updateSeconds / fullSeconds)),
            ("peak_rss_mb", .double(Double(peakBeforeStored) / 1_048_576)),
            ("state_mb", .double(Double(bytes.count) / 1_048_576)), ("state_encode_seconds", .double(encoded - encodeStart)),
            ("state_decode_seconds", .double(decodedAt - encoded)),
            ("stored_update_seconds", .double(storedSeconds)), ("stored_update_seconds_runs", .array(storedTimes.map { .double($0) })),
            ("stored_update_share_of_full", .double(storedSeconds / fullSeconds)), ("stored_update_same_drops", .bool(sameAsUpdate)),
            ("stored_peak_rss_mb", .double(Double(peakResidentBytes()) / 1_048_576)),
        ])
        Output.json(result)
        if let report { try writeReport(report, result) }
    }

    private func writeReport(_ path: String, _ result: JSONValue) throws {
        let text = """
        # Benchmark: semantic dedup of embeddings

        Generated by `capfilt-bench semdedup --report` (`make bench`) on \(ISO8601DateFormatter().string(from: Date())), \
        \(cpuDescription()), \(threads) threads. \(rows) random \
        \(dimension)-d unit vectors with \(plantedShare * 100)% planted near-copies (noise \(copyNoise) per coordinate before \
        normalising); spherical k-means with \(clusters) clusters fitted on \(sampleSize) rows for at most \(iterations) \
        iterations; duplicates within a cluster above cosine 1 - \(epsilon). Then an update of \(newShare * 100)% new rows \
        (with their own planted copies) against the kept rows. Recall and precision are against the planted pairs \
        (a copy dropped for a row of the same planted family is right). Then the dedup stage's path for the same \
        update: the full pass's state (`SemanticDedupState`) encoded and decoded, and `SemanticDedupUpdate` on every \
        row (matching them to the state by a merge of the key-ordered lists, assigning the new ones, marking the kept \
        rows, `findUpdate` streaming the kept embeddings once, the new state); `stored_update_same_drops` says it \
        drops what the bare update dropped. Every timed figure starts with the embeddings in memory and normalised \
        (the full pass's too): loading them is the same for both kinds of pass. Both updates are timed three times \
        and the median is reported (`*_runs` lists all three); the full pass once. `peak_rss_mb` is measured before \
        this part.

        \(markdownTable(result))

        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `count` rows: random unit vectors, `plantedShare` of them noisy copies of an earlier row
    /// of `base` or of this batch. Returns the values and, per row, the global row it copies.
    /// `count` raw rows, a share of them noisy copies of an earlier one: of `base`'s rows
    /// `baseRows` (a copy of `baseRows[k]` records k) or of a row generated before it (recorded
    /// as `baseRows.count` + its index).
    private func generate(count: Int, base: EmbeddingMatrix, baseRows: [Int], rng: inout SplitMix64) -> ([Float], [Int?]) {
        var values = [Float](repeating: 0, count: count * dimension)
        var copyOf = [Int?](repeating: nil, count: count)
        let offset = baseRows.count
        for r in 0..<count {
            let copies = rng.uniform() < plantedShare && (r > 0 || offset > 0)
            if copies {
                let source = Int(rng.next() % UInt64(offset + r))
                // Stored rows are unit length; scaled back to a raw row's length (about sqrt(d)),
                // a copy of one gets the same relative noise as a copy of a new raw row.
                let scale = Float(dimension).squareRoot()
                let row = source < offset ? base.row(baseRows[source]).map { $0 * scale }
                    : Array(values[(source - offset) * dimension..<(source - offset + 1) * dimension])
                for j in 0..<dimension { values[r * dimension + j] = row[j] + copyNoise * rng.gaussian() }
                copyOf[r] = source
            } else {
                for j in 0..<dimension { values[r * dimension + j] = rng.gaussian() }
            }
        }
        return (values, copyOf)
    }

    /// Recall: planted copies among `rows` that were dropped; precision: drops among `rows` that
    /// are planted copies or have a planted relation to their keeper (a copy's original dropped
    /// as a copy of the copy counts as right).
    private func score(_ drops: [SemanticDuplicates.Drop], copyOf: [Int?], rows: Range<Int>)
        -> (planted: Int, found: Int, recall: Double, precision: Double) {
        func root(_ r: Int) -> Int { var x = r; while let s = copyOf[x] { x = s }; return x }
        let planted = rows.filter { copyOf[$0] != nil }.count
        let inRange = drops.filter { rows.contains($0.row) }
        let right = inRange.filter { root($0.row) == root($0.keptRow) }.count
        return (planted, right, planted == 0 ? 1 : Double(right) / Double(planted),
                inRange.isEmpty ? 1 : Double(right) / Double(inRange.count))
    }
}

extension SplitMix64 {
    /// A standard normal draw (Box-Muller).
    mutating func gaussian() -> Float {
        let u = max(uniform(), 1e-300), v = uniform()
        return Float((-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v))
    }
}
