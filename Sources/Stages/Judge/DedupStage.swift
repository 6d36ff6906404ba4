import Catalog
import Foundation
import Imaging
import MED
import Pipeline

/// Finds duplicates across the whole dataset (every shard):
/// - exact: the same image bytes (SHA-256);
/// - url: the same URL in several rows or sources;
/// - near: perceptual hashes within `radius` bits (multi-index hashing, sub-quadratic), grouped
///   transitively;
/// - texts: the same normalised text twice on one image (a synthetic caption equal to the web
///   text, say); the later one (human, then web, then synthetic) is dropped.
/// In every group the first sample in (shard, id) order is the representative; the others are
/// recorded with kind and distance and left out of the assembled set.
final class DedupStage: DatasetStage {
    let radius: Int
    let exact: Bool
    let near: Bool
    let urls: Bool
    let texts: Bool

    /// The stage's parameters, each declared once.
    enum Keys {
        static let radius = StageParameter("radius", .int(0...32), default: 4, help: "Hamming radius of near-duplicate pHashes",
                                           appliesWhen: .when(near, in: [true], "true"))
        static let exact = StageParameter("exact", .bool, default: true, help: "drop samples whose image bytes repeat an earlier one")
        static let near = StageParameter("near", .bool, default: true, help: "drop near-duplicate images (perceptual hash within `radius`)")
        static let urls = StageParameter("urls", .bool, default: true, help: "drop samples whose URL repeats an earlier one")
        static let texts = StageParameter("texts", .bool, default: true, help: "drop a text that repeats another text of the same image")

        static let all = [radius.spec, exact.spec, near.spec, urls.spec, texts.spec]
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
    }

    struct Item {
        var shard: Int
        var input: DedupInput
        var name: String { input.source + "/" + input.key }
    }

    func run(_ context: DatasetContext) throws -> String {
        guard let decode = context.upstream(type: "decode") else { return "{}" }
        // Samples a gate upstream dropped are not in the dataset, so they represent no group.
        let gates = context.allUpstream.filter { $0.type == "gate" }.map(\.requirement)
        var items: [Item] = []
        for (shard, catalog) in context.catalogs.enumerated() {
            items += try catalog.read { try $0.dedupInputs(passing: decode.requirement, gates: gates) }.map { Item(shard: shard, input: $0) }
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
            + "\"near\":\(counts["near"] ?? 0),\"repeated_texts\":\(duplicateTexts)}"
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
