import Basics
import Catalog
import Foundation
import Imaging
import MED
import Pipeline
import SemanticDedup

/// Finds duplicates across the whole dataset (every shard):
/// - exact: the same image bytes (SHA-256);
/// - url: the same URL in several rows or sources;
/// - near: perceptual hashes within `radius` bits (multi-index hashing, sub-quadratic), grouped
///   transitively;
/// - texts: the same normalised text twice on one image (a synthetic caption equal to the web
///   text, say); the later one (human, then web, then synthetic) is dropped.
/// - semantic (`semantic: true`): SemDeDup on the ITC image embeddings a filter upstream kept:
///   spherical k-means, then within a cluster a cosine above `1 - epsilon` makes a duplicate;
///   the sample with the highest ITM of its texts is kept (ties by key).
///   The clustering is kept between runs (`SemanticDedupUpdate`): new samples are assigned to
///   the stored centroids and compared within their cluster, earlier decisions stay.
/// In every group the first sample in (shard, id) order is the representative (semantic: the
/// best by ITM); the others are recorded with kind and distance and left out of the assembled set.
final class DedupStage: DatasetStage {
    let radius: Int
    let exact: Bool
    let near: Bool
    let urls: Bool
    let texts: Bool
    let semantic: Bool
    let epsilon: Double
    let clusters: Int
    let recluster: Bool

    /// The stage's parameters, each declared once.
    enum Keys {
        static let radius = StageParameter("radius", .int(0...32), default: 4, help: "Hamming radius of near-duplicate pHashes",
                                           appliesWhen: .when(near, in: [true], "true"))
        static let exact = StageParameter("exact", .bool, default: true, help: "drop samples whose image bytes repeat an earlier one")
        static let near = StageParameter("near", .bool, default: true, help: "drop near-duplicate images (perceptual hash within `radius`)")
        static let urls = StageParameter("urls", .bool, default: true, help: "drop samples whose URL repeats an earlier one")
        static let texts = StageParameter("texts", .bool, default: true, help: "drop a text that repeats another text of the same image")

        static let semantic = StageParameter("semantic", .bool, default: false, help: "drop semantic duplicates: SemDeDup on the image embeddings a filter upstream kept (its `embeddings`)")
        static let epsilon = StageParameter("epsilon", .double(0...2), default: 0.05, help: "semantic: within a cluster, a cosine above 1 - epsilon is a duplicate",
                                            appliesWhen: .when(semantic, in: [true], "true"))
        static let clusters = StageParameter("clusters", .int(0...1_000_000), default: 0, help: "semantic: k-means clusters; 0 for the square root of the sample count",
                                             appliesWhen: .when(semantic, in: [true], "true"))

        static let recluster = StageParameter("recluster", .bool, default: false,
                                              help: "semantic: cluster every sample again instead of updating the stored clustering (it is rebuilt anyway when the embedding model, `clusters` or `epsilon` changed)",
                                              appliesWhen: .when(semantic, in: [true], "true"))

        static let all = [radius.spec, exact.spec, near.spec, urls.spec, texts.spec, semantic.spec, epsilon.spec, clusters.spec, recluster.spec]
    }

    static let type = StageType(
        name: "dedup", kind: .wholeDataset, summary: "Exact, URL, near-duplicate image and repeated-text dedup.",
        parameters: Keys.all,
        requires: ["decode"],
        make: { setup in DedupStage(setup.parameters) })

    init(_ p: StageParameters) {
        radius = p[Keys.radius]
        exact = p[Keys.exact]
        near = p[Keys.near]
        urls = p[Keys.urls]
        texts = p[Keys.texts]
        semantic = p[Keys.semantic]
        epsilon = p[Keys.epsilon]
        clusters = p[Keys.clusters]
        recluster = p[Keys.recluster]
    }

    struct Item {
        var shard: Int
        var input: DedupInput
        var name: String { input.source + "/" + input.key }
    }

    func run(_ context: DatasetContext) throws -> String {
        guard let decode = context.upstream(type: "decode") else { return "{}" }
        // Samples a gate or decontaminate stage upstream dropped are not in the dataset, so they
        // represent no group.
        let gates = context.allUpstream.filter { $0.type == "gate" }.map(\.requirement)
        let dropping = gates + context.allUpstream.filter { $0.type == "decontaminate" }.map(\.requirement)
        var items: [Item] = []
        for (shard, catalog) in context.catalogs.enumerated() {
            items += try catalog.read { try $0.dedupInputs(passing: decode.requirement, gates: dropping) }.map { Item(shard: shard, input: $0) }
        }
        context.progress.setTotal(items.count)
        // Decided duplicates: item index -> record fields.
        var found: [Int: (kind: String, group: String, representative: Int, distance: Int)] = [:]
        if exact {
            var first: [String: Int] = [:]
            for (i, item) in items.enumerated() {
                if let r = first[item.input.sha256] {
                    found[i] = ("exact", item.input.sha256, r, 0)
                } else {
                    first[item.input.sha256] = i
                }
            }
        }
        if urls {
            var first: [String: Int] = [:]
            for (i, item) in items.enumerated() where found[i] == nil {
                guard let url = item.input.url, !url.isEmpty else { continue }
                if let r = first[url] { found[i] = ("url", url, r, 0) } else { first[url] = i }
            }
        }
        var nearPairs = 0
        if near {
            let candidates = items.indices.filter { found[$0] == nil && items[$0].input.phash != nil }
            let index = HammingIndex(candidates.map { items[$0].input.phash! }, radius: radius)
            let groups = index.duplicateGroups()
            for group in groups.groups {
                let r = candidates[group[0]]
                for member in group.dropFirst() {
                    let i = candidates[member]
                    let distance = (items[i].input.phash! ^ items[r].input.phash!).nonzeroBitCount
                    found[i] = ("near", String(items[r].input.phash!, radix: 16), r, distance)
                    nearPairs += 1
                }
            }
        }
        let semanticPass = semantic ? try findSemantic(items: items, found: &found, context: context) : nil
        var counts: [String: Int] = [:]
        var duplicateTexts = 0
        for (shard, catalog) in context.catalogs.enumerated() {
            let records = items.indices.filter { items[$0].shard == shard && found[$0] != nil }.map { i -> DuplicateRecord in
                let f = found[i]!
                counts[f.kind, default: 0] += 1
                return DuplicateRecord(sampleID: items[i].input.sampleID, kind: f.kind, groupKey: f.group,
                                       representative: items[f.representative].name, distance: f.distance)
            }
            let repeated = texts ? try repeatedTexts(catalog: catalog, decode: decode, gates: gates, context: context) : []
            duplicateTexts += repeated.count
            try catalog.write { try $0.replaceDuplicates(records, duplicateTexts: repeated) }
        }
        context.progress.addDone(items.count)
        return "{\"images\":\(items.count),\"exact\":\(counts["exact"] ?? 0),\"url\":\(counts["url"] ?? 0),"
            + "\"near\":\(counts["near"] ?? 0),\"semantic\":\(counts["semantic"] ?? 0),\"repeated_texts\":\(duplicateTexts)"
            + (semanticPass.map { ",\"semantic_pass\":\"\($0)\"" } ?? "") + "}"
    }

    /// SemDeDup over the samples not already found, with the image embeddings of the filter
    /// upstream (the last row of each sample in each shard's store), updating the clustering the
    /// previous run stored. Distance: 1000 x (1 - cosine). Returns the kind of pass: `full`
    /// (clustered again) or `update`.
    private func findSemantic(items: [Item], found: inout [Int: (kind: String, group: String, representative: Int, distance: Int)],
                              context: DatasetContext) throws -> String {
        guard let filter = context.upstream(type: "filter") else {
            throw StageFailure(.config, "semantic dedup needs a filter upstream (its embeddings): add it to `needs`")
        }
        var rows: [Int] = []            // item index of each embedding row
        var keys: [SemanticDedupState.RowKey] = []
        var vectors: [Float] = []
        var dimension = 0
        var itm: [Double] = []
        for (shard, catalog) in context.catalogs.enumerated() {
            let folder = context.workspace.embeddingFolder(context.workspace.shards[shard], stage: filter.name)
            guard FileManager.default.fileExists(atPath: folder + "/meta.json") else { continue }
            let store = try EmbeddingStore(existing: folder)
            guard dimension == 0 || dimension == store.dimension else {
                throw StageFailure(.config, "\(folder) holds \(store.dimension)-d embeddings, another shard \(dimension)-d")
            }
            dimension = store.dimension
            var itemOf: [Int64: Int] = [:]
            for (i, item) in items.enumerated() where item.shard == shard && found[i] == nil { itemOf[item.input.sampleID] = i }
            let stored = try store.latestRows(.image, where: { itemOf[$0] != nil })
            let best = try catalog.read { try $0.bestITMBySample(fingerprint: filter.fingerprint) }
            for id in stored.ids {
                rows.append(itemOf[id]!)
                keys.append(SemanticDedupState.RowKey(shard: Int32(shard), id: id))
                itm.append(best[id] ?? 0)
            }
            // One shard's rows are moved, not copied; further shards are appended.
            if vectors.isEmpty { vectors = stored.values } else { vectors += stored.values }
        }
        guard dimension > 0 else { return "none" }
        let statePath = context.workspace.semanticDedupState(stage: context.name)
        let previous = loadState(statePath, context: context)
        let settings = SemanticDedupState.Settings(dimension: dimension, clusters: clusters, epsilon: epsilon,
                                                   model: try embeddingModel(filter, context: context))
        // Rank: higher ITM first, then the key.
        let order = rows.indices.sorted { a, b in
            itm[a] != itm[b] ? itm[a] > itm[b] : items[rows[a]].name < items[rows[b]].name
        }
        var rank = [Int](repeating: 0, count: rows.count)
        for (position, row) in order.enumerated() { rank[row] = position }
        let data = EmbeddingMatrix(dimension: dimension, values: consume vectors)
        let (state, drops, mode) = SemanticDedupUpdate(settings: settings)
            .run(previous: previous, recluster: recluster, keys: keys, data: data, rank: rank)
        try saveState(state, to: statePath)
        for drop in drops {
            found[rows[drop.row]] = ("semantic", "cluster \(drop.cluster)", rows[drop.keeper],
                                    Int(((1 - Double(drop.similarity)) * 1000).rounded()))
        }
        switch mode {
        case .full(let reason):
            context.logger.info("\(context.name): semantic clustering built from \(keys.count) samples (\(reason))")
            return "full"
        case .incremental(let new, let removed):
            context.logger.info("\(context.name): semantic clustering updated: \(new) new samples, \(removed) gone")
            return "update"
        case .unchanged(let pass):
            // A resumed run: the stored decisions are this pass's.
            context.logger.info("\(context.name): semantic clustering unchanged: every sample judged already")
            return pass == .full ? "full" : "update"
        }
    }

    /// The stored state, or nil (a full pass follows) when there is none or it cannot be read.
    private func loadState(_ path: String, context: DatasetContext) -> SemanticDedupState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try SemanticDedupState(decoding: Array(data))
        } catch {
            context.logger.warning("\(path): \(error); clustering again")
            return nil
        }
    }

    /// Written under a temporary name and renamed (DurableFile): a kill leaves the old state or
    /// the new one. Temporaries a killed write left behind are removed first.
    private func saveState(_ state: SemanticDedupState, to path: String) throws {
        let folder = DurableFile.folder(of: path)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        try DurableFile.write(state.encoded(), to: path)
    }

    /// Names the model behind the filter's embeddings: its files' digests for a `model` folder,
    /// the training stage's fingerprint for `model_from`.
    private func embeddingModel(_ filter: StageHandle, context: DatasetContext) throws -> String {
        guard let definition = context.pipeline.stage(filter.name) else { return filter.fingerprint }
        if let reference = definition.parameters[StageModelReference.modelFrom] {
            let stage = String(reference.split(separator: "/").first ?? "")
            return reference + "@" + (context.allUpstream.first { $0.name == stage }?.fingerprint ?? "")
        }
        return try StageModelReference.fingerprintInputs(definition.parameters).joined(separator: ";")
    }

    /// Texts that repeat an earlier text of the same sample after normalisation. Captions a gate
    /// dropped are left out: a dropped caption must not make the one it repeats a duplicate.
    private func repeatedTexts(catalog: Catalog, decode: StageHandle, gates: [StageRequirement],
                               context: DatasetContext) throws -> [(text: Int64, sameAs: Int64)] {
        let synthetic = context.upstream(type: "caption")?.fingerprint
        let all = try catalog.read { session in
            let gated = try session.gatedTextIDs(gates: gates)
            return try session.textsOfSamples(passing: decode.requirement, syntheticFingerprint: synthetic).filter { !gated.contains($0.id) }
        }
        let rank: [TextOrigin: Int] = [.human: 0, .web: 1, .synthetic: 2]
        var out: [(Int64, Int64)] = []
        var start = 0
        while start < all.count {
            var end = start
            while end < all.count, all[end].sampleID == all[start].sampleID { end += 1 }
            let group = all[start..<end].sorted { (rank[$0.origin] ?? 3, $0.position) < (rank[$1.origin] ?? 3, $1.position) }
            var seen: [String: Int64] = [:]
            for t in group {
                let normalised = preCaption(t.text, maxWords: 10_000)
                if let first = seen[normalised] { out.append((t.id, first)) } else { seen[normalised] = t.id }
            }
            start = end
        }
        return out
    }
}
