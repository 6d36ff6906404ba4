/// A semantic dedup pass that starts from the state of the previous one. With a usable state
/// (same settings, centroids present) it is an update: rows the state knows keep their cluster
/// and decision, rows it does not know are assigned to the existing centroids and compared only
/// against the kept rows of their cluster (`findUpdate`), and rows that are gone leave the
/// state. A dropped row whose keeper is gone is judged again as a new row. Otherwise (no state,
/// other settings, `recluster`) it is a full pass: k-means, then `find`.
///
/// The drops are derived from the state alone, so running a pass again on the same rows with
/// the state it left gives the same drops (a run stopped after saving the state resumes to the
/// result an uninterrupted run has).
public struct SemanticDedupUpdate: Sendable {
    public enum Mode: Sendable, Equatable {
        case full(reason: String)
        case incremental(new: Int, removed: Int)
        /// The stored state held exactly these rows: its decisions stand (a resumed or repeated
        /// run), made by the pass it names.
        case unchanged(of: SemanticDedupState.Pass)
    }

    /// A dropped row and its keeper, as indices into the rows the pass was given.
    public struct Drop: Sendable, Equatable {
        public var row: Int
        public var keeper: Int
        public var cluster: Int32
        public var similarity: Float
    }

    public var settings: SemanticDedupState.Settings
    public var seed: UInt64

    public init(settings: SemanticDedupState.Settings, seed: UInt64 = 0) {
        self.settings = settings; self.seed = seed
    }

    /// `keys` (strictly ascending), their embeddings `data` (one row each, `settings.dimension` wide) and
    /// `rank` (lower is kept first) against `previous`. Returns the new state, the drops among
    /// `keys`, and which kind of pass it was.
    public func run(previous: SemanticDedupState?, recluster: Bool, keys: [SemanticDedupState.RowKey],
                    data: consuming EmbeddingMatrix, rank: [Int]) -> (state: SemanticDedupState, drops: [Drop], mode: Mode) {
        precondition(keys.count == data.count && rank.count == data.count && data.dimension == settings.dimension)
        precondition(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }, "keys in ascending order, each once")
        let reason: String? = if recluster { "recluster requested" }
            else if let previous {
                previous.settings != settings ? "built with other settings" : previous.centroids.count == 0 ? "no centroids yet" : nil
            } else { "no state" }
        if let reason { return full(keys: keys, data: data, rank: rank, reason: reason) }
        return incremental(previous!, keys: keys, data: data, rank: rank)
    }

    private func full(keys: [SemanticDedupState.RowKey], data: EmbeddingMatrix, rank: [Int],
                      reason: String) -> (state: SemanticDedupState, drops: [Drop], mode: Mode) {
        let k = settings.clusters > 0 ? settings.clusters : max(1, Int(Double(keys.count).squareRoot()))
        let kmeans = SphericalKMeans(clusters: k, seed: seed)
        let centroids = kmeans.fit(data)
        let cluster = centroids.count > 0 ? kmeans.assign(data, to: centroids).cluster : []
        var keeper = [Int?](repeating: nil, count: keys.count)
        var similarity = [Float](repeating: 1, count: keys.count)
        for drop in SemanticDuplicates(epsilon: Float(settings.epsilon)).find(data, cluster: cluster, rank: rank) {
            keeper[drop.row] = drop.keptRow
            similarity[drop.row] = drop.similarity
        }
        let rows = keys.indices.map {
            SemanticDedupState.Row(key: keys[$0], cluster: cluster[$0], keeper: keeper[$0].map { keys[$0] }, similarity: similarity[$0])
        }
        let state = SemanticDedupState(settings: settings, centroids: centroids, rows: rows, pass: .full)
        return (state, Self.drops(state, keys: keys), .full(reason: reason))
    }

    private func incremental(_ previous: SemanticDedupState, keys: [SemanticDedupState.RowKey], data: consuming EmbeddingMatrix,
                             rank: [Int]) -> (state: SemanticDedupState, drops: [Drop], mode: Mode) {
        typealias Row = SemanticDedupState.Row
        // Both lists are in key order, so one merge pairs each key with its stored row and a
        // binary search finds any other: no table of a million keys to hash.
        let storedRows = Self.inKeyOrder(previous.rows)
        let stored = Self.merge(keys, storedRows)
        // A row stays decided if the state knows it and, when dropped, its keeper is still a
        // kept row here; every other row is new (a placeholder here, decided below).
        var rows: [Row] = []
        rows.reserveCapacity(keys.count)
        var keptCluster = [Int32](repeating: -1, count: keys.count)
        var newRows: [Int] = []
        var matched = 0
        for i in keys.indices {
            if stored[i] >= 0 {
                matched += 1
                let row = storedRows[stored[i]]
                if let keeper = row.keeper {
                    if Self.search(keeper, in: keys, key: { $0 }) != nil,
                       Self.search(keeper, in: storedRows, key: \.key).map({ storedRows[$0].keeper == nil }) ?? true {
                        rows.append(row)
                        continue
                    }
                } else {
                    rows.append(row)
                    keptCluster[i] = row.cluster
                    continue
                }
            }
            newRows.append(i)
            rows.append(Row(key: keys[i], cluster: -1, keeper: nil, similarity: 1))
        }
        let removed = storedRows.count - matched
        if newRows.isEmpty && removed == 0 {
            let state = SemanticDedupState(settings: settings, centroids: previous.centroids, rows: rows, pass: previous.pass)
            return (state, Self.drops(state, keys: keys), .unchanged(of: previous.pass))
        }
        let new = data.gather(newRows)
        let kmeans = SphericalKMeans(clusters: previous.centroids.count, seed: seed)
        let newCluster = kmeans.assign(new, to: previous.centroids).cluster
        let kept = KeptRows(data, cluster: keptCluster, keep: { _ in true })
        let updates = SemanticDuplicates(epsilon: Float(settings.epsilon))
            .findUpdate(kept, new: new, cluster: newCluster, rank: newRows.map { rank[$0] })
        var keeperOf: [Int: (Int, Float)] = [:]
        for u in updates {
            switch u.keeper {
            case .kept(let row): keeperOf[u.newRow] = (row, u.similarity)
            case .new(let j): keeperOf[u.newRow] = (newRows[j], u.similarity)
            }
        }
        for (j, i) in newRows.enumerated() {
            let keeper = keeperOf[j]
            rows[i] = Row(key: keys[i], cluster: newCluster[j], keeper: keeper.map { keys[$0.0] }, similarity: keeper?.1 ?? 1)
        }
        let state = SemanticDedupState(settings: settings, centroids: previous.centroids, rows: rows, pass: .update)
        return (state, Self.drops(state, keys: keys), .incremental(new: newRows.count, removed: removed))
    }

    /// `rows` sorted by key (a state's rows are; one written otherwise is sorted here).
    private static func inKeyOrder(_ rows: [SemanticDedupState.Row]) -> [SemanticDedupState.Row] {
        zip(rows, rows.dropFirst()).allSatisfy { $0.key < $1.key } ? rows : rows.sorted { $0.key < $1.key }
    }

    /// For each key, the index of the stored row with that key, or -1; both in ascending key order.
    private static func merge(_ keys: [SemanticDedupState.RowKey], _ rows: [SemanticDedupState.Row]) -> [Int] {
        var out = [Int](repeating: -1, count: keys.count)
        keys.withUnsafeBufferPointer { k in
            rows.withUnsafeBufferPointer { stored in
                out.withUnsafeMutableBufferPointer { o in
                    var r = 0
                    for i in 0..<k.count {
                        while r < stored.count && stored[r].key < k[i] { r += 1 }
                        if r < stored.count && stored[r].key == k[i] { o[i] = r }
                    }
                }
            }
        }
        return out
    }

    /// The index of `key` in `list` (ascending by `key(_:)`), or nil.
    private static func search<T>(_ key: SemanticDedupState.RowKey, in list: [T], key keyOf: (T) -> SemanticDedupState.RowKey) -> Int? {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keyOf(list[mid]) < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < list.count && keyOf(list[lo]) == key ? lo : nil
    }

    /// The drops a state records, as indices into `keys` (the state's rows, in the same order).
    private static func drops(_ state: SemanticDedupState, keys: [SemanticDedupState.RowKey]) -> [Drop] {
        state.rows.enumerated().compactMap { i, row in
            row.keeper.map { Drop(row: i, keeper: search($0, in: keys, key: { $0 })!, cluster: row.cluster, similarity: row.similarity) }
        }
    }
}
