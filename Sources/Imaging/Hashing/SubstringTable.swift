/// One table of a multi-index: every hash's id bucketed by one substring of its bits.
///
/// Layout (compressed-sparse-row): `entries` holds one `key << 32 | id` word per hash, grouped
/// by bucket; bucket `b` is `entries[starts[b] ..< starts[b + 1]]`. A bucket is the top
/// `directoryBits` bits of the key, with `2^directoryBits ≤ count`, so the directory costs at
/// most 4 bytes per hash and a bucket holds one or two entries on random data. Keeping the key
/// next to the id lets a probe reject a bucket's other keys without reading their hashes (a
/// cache miss each at a million hashes): 8 bytes per hash, plus the directory.
struct SubstringTable: Sendable {
    let part: MultiIndexLayout.Part
    let keyMask: UInt64
    let directoryShift: UInt32
    let starts: [UInt32]
    let entries: [UInt64]
    /// Every substring flip pattern within the part's radius.
    let probeMasks: [UInt32]

    init(part: MultiIndexLayout.Part, hashes: [UInt64]) {
        self.part = part
        keyMask = (UInt64(1) << UInt64(part.width)) - 1  // width ≤ 32
        var directoryBits = 0
        while directoryBits < part.width && (1 << (directoryBits + 1)) <= hashes.count { directoryBits += 1 }
        directoryShift = UInt32(part.width - directoryBits)
        probeMasks = hammingBallMasks(width: part.width, radius: part.radius)

        // Counting sort by bucket; ids stay ascending inside a bucket.
        let bucketCount = 1 << directoryBits
        var starts = [UInt32](repeating: 0, count: bucketCount + 1)
        let offset = UInt64(part.offset)
        let mask = keyMask
        let shift = directoryShift
        for h in hashes {
            starts[Int(UInt32(truncatingIfNeeded: (h >> offset) & mask) >> shift) + 1] += 1
        }
        for b in 0..<bucketCount { starts[b + 1] += starts[b] }
        var next = starts
        var entries = [UInt64](repeating: 0, count: hashes.count)
        for (id, h) in hashes.enumerated() {
            let key = (h >> offset) & mask
            let b = Int(UInt32(truncatingIfNeeded: key) >> shift)
            entries[Int(next[b])] = key << 32 | UInt64(id)
            next[b] += 1
        }
        self.starts = starts
        self.entries = entries
    }

    var filter: PartFilter {
        PartFilter(offset: UInt64(part.offset), keyMask: keyMask, radius: part.radius, directoryShift: directoryShift)
    }

    var memoryBytes: Int {
        (starts.count + probeMasks.count) * MemoryLayout<UInt32>.stride + entries.count * MemoryLayout<UInt64>.stride
    }
}

/// A table's bit range and radius as plain values (no arrays), cheap to copy in inner loops.
struct PartFilter: Sendable {
    let offset: UInt64
    let keyMask: UInt64
    let radius: Int
    let directoryShift: UInt32

    /// The substring of `hash` this table is keyed by.
    @inline(__always) func key(_ hash: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: (hash >> offset) & keyMask)
    }

    /// Whether the substring of `difference` (the XOR of two hashes) is within this part's
    /// radius, that is, whether this table finds the pair.
    @inline(__always) func finds(difference: UInt64) -> Bool {
        ((difference >> offset) & keyMask).nonzeroBitCount <= radius
    }
}
