/// Near-duplicate search over 64-bit perceptual hashes by multi-index hashing (Norouzi, Punjani
/// and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012).
///
/// The 64 bits are split into disjoint substrings (see `MultiIndexLayout`); each searched
/// substring gets a table of ids bucketed by that substring. A query probes, in each table,
/// every substring within that table's radius of its own and verifies each candidate with one
/// popcount over the full hash, so results are exact. With the automatic layout the substrings
/// are about log2(count) bits wide, and a query touches a number of candidates that grows far
/// slower than the set; finding all pairs is one query per hash.
///
/// Memory: 8 bytes per hash for the hashes plus, per searched table, 8 bytes per hash for the
/// (substring, id) entries and at most 4 for the bucket directory; about 38 bytes per hash at
/// a million hashes and radius 8 (`memoryBytes` gives the exact figure). Ids are positions in
/// the input array, so an index holds fewer than 2^32 hashes.
public struct HammingIndex: Sendable {
    public let layout: MultiIndexLayout
    public let hashes: [UInt64]
    let tables: [SubstringTable]
    /// The tables' bit ranges again, as plain values for the inner loops.
    let filters: [PartFilter]

    /// Largest Hamming distance reported as a match.
    public var radius: Int { layout.radius }
    public var count: Int { hashes.count }

    /// Indexes `hashes` for searches within `radius` (0...32; 0 finds exact duplicates).
    /// `layout` defaults to `MultiIndexLayout.automatic(radius:count:)`.
    public init(_ hashes: [UInt64], radius: Int, layout: MultiIndexLayout? = nil) {
        precondition(hashes.count < Int(UInt32.max), "at most 2^32 - 1 hashes per index")
        let layout = layout ?? .automatic(radius: radius, count: hashes.count)
        precondition(layout.radius == radius, "layout radius \(layout.radius) differs from \(radius)")
        self.layout = layout
        self.hashes = hashes
        tables = layout.parts.map { SubstringTable(part: $0, hashes: hashes) }
        filters = tables.map(\.filter)
    }

    /// Bytes held by the index, the hashes included.
    public var memoryBytes: Int {
        hashes.count * MemoryLayout<UInt64>.stride + tables.reduce(0) { $0 + $1.memoryBytes }
    }

    /// Positions of every indexed hash within `radius` of `hash`, ascending.
    public func neighbors(of hash: UInt64) -> [Int] {
        var found: [Int] = []
        let radius = self.radius
        // The probe loops are memory bound; reading through plain buffers keeps array
        // bookkeeping out of them.
        hashes.withUnsafeBufferPointer { hashes in
            filters.withUnsafeBufferPointer { filters in
                for t in tables.indices {
                    let table = tables[t]
                    let filter = filters[t]
                    let key = filter.key(hash)
                    table.starts.withUnsafeBufferPointer { starts in
                        table.entries.withUnsafeBufferPointer { entries in
                            for mask in table.probeMasks {
                                let probe = key ^ mask
                                let bucket = Int(probe >> filter.directoryShift)
                                for e in Int(starts[bucket])..<Int(starts[bucket + 1]) {
                                    let entry = entries[e]
                                    guard UInt32(truncatingIfNeeded: entry >> 32) == probe else { continue }
                                    let id = Int(UInt32(truncatingIfNeeded: entry))
                                    let difference = hash ^ hashes[id]
                                    guard difference.nonzeroBitCount <= radius,
                                          !Self.foundByEarlierTable(difference, before: t, filters) else { continue }
                                    found.append(id)
                                }
                            }
                        }
                    }
                }
            }
        }
        found.sort()
        return found
    }

    /// Every pair of indexed hashes within `radius`, each pair once, sorted by `(first, second)`.
    /// Identical hashes at different positions are pairs at distance 0.
    public func allPairs() -> [HammingPair] {
        var pairs: [HammingPair] = []
        let radius = self.radius
        hashes.withUnsafeBufferPointer { hashes in
            filters.withUnsafeBufferPointer { filters in
                for t in tables.indices {
                    let table = tables[t]
                    let filter = filters[t]
                    table.starts.withUnsafeBufferPointer { starts in
                        table.entries.withUnsafeBufferPointer { entries in
                            table.probeMasks.withUnsafeBufferPointer { probeMasks in
                                // Hashes in bucket order, so consecutive queries probe nearby
                                // buckets. (Looping over flip patterns outside and hashes inside
                                // was measured too: 1.6x slower at a million hashes.)
                                for own in entries {
                                    let id = Int(UInt32(truncatingIfNeeded: own))
                                    let key = UInt32(truncatingIfNeeded: own >> 32)
                                    let hash = hashes[id]
                                    for mask in probeMasks {
                                        // A pair is reported from the side with the smaller key
                                        // (the smaller id if the keys are equal), so each table
                                        // reports it once.
                                        let probe = key ^ mask
                                        if probe < key { continue }
                                        let bucket = Int(probe >> filter.directoryShift)
                                        for e in Int(starts[bucket])..<Int(starts[bucket + 1]) {
                                            let entry = entries[e]
                                            guard UInt32(truncatingIfNeeded: entry >> 32) == probe else { continue }
                                            let otherID = Int(UInt32(truncatingIfNeeded: entry))
                                            if probe == key && otherID <= id { continue }
                                            let difference = hash ^ hashes[otherID]
                                            let distance = difference.nonzeroBitCount
                                            guard distance <= radius,
                                                  !Self.foundByEarlierTable(difference, before: t, filters) else { continue }
                                            pairs.append(HammingPair(id, otherID, distance: distance))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        pairs.sort()
        return pairs
    }

    /// Groups of near-duplicates: the connected components of `allPairs()`.
    public func duplicateGroups() -> DuplicateGroups {
        DuplicateGroups(count: count, pairs: allPairs())
    }

    /// A pair found by table `t` is reported only if no earlier table finds it too.
    @inline(__always)
    private static func foundByEarlierTable(_ difference: UInt64, before t: Int, _ filters: UnsafeBufferPointer<PartFilter>) -> Bool {
        var k = 0
        while k < t {
            if filters[k].finds(difference: difference) { return true }
            k += 1
        }
        return false
    }

    /// Every pair within `radius` by comparing all pairs: the reference the index is tested and
    /// benchmarked against. Quadratic.
    public static func bruteForcePairs(_ hashes: [UInt64], radius: Int) -> [HammingPair] {
        var pairs: [HammingPair] = []
        // A plain buffer keeps the inner loop to a load, an XOR and a popcount.
        hashes.withUnsafeBufferPointer { h in
            for i in 0..<h.count {
                let hash = h[i]
                var j = i + 1
                while j < h.count {
                    let distance = (hash ^ h[j]).nonzeroBitCount
                    if distance <= radius { pairs.append(HammingPair(i, j, distance: distance)) }
                    j += 1
                }
            }
        }
        return pairs
    }
}
