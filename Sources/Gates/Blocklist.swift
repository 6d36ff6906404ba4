/// A blocklist held as the sorted, distinct 64-bit keys of its entries (8 bytes an entry: 80 MB
/// for 10 million, however long the entries are), looked up by binary search.
///
/// False positives: two different normalised entries share a key with probability 2^-64 each. A
/// value that is not listed matches one of n listed keys with probability about n / 2^64: for
/// 10 million entries, 5.4e-13 per lookup, so about one wrongly dropped sample in 1.8 trillion
/// lookups (a billion samples: 0.0005 expected). No value that is listed is ever missed.
public struct Blocklist: Sendable {
    public let kind: BlocklistKind
    /// Where it was read from (for reasons and logs).
    public let path: String
    /// The non-blank, non-comment lines the file had (repeats included).
    public let entries: Int
    /// The file's name without its folder, as reasons show it.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    let keys: [UInt64]

    /// The distinct keys: entries that normalise to the same key (`Example.com` and
    /// `example.com.`) count once.
    public var distinctKeys: Int { keys.count }

    /// Reads a list of `kind` from `path`: one entry a line (see `BlocklistLines`). Throws a
    /// `BlocklistError` naming the first line that is not an entry of this kind.
    public init(kind: BlocklistKind, path: String) throws {
        var keys: [UInt64] = []
        var entries = 0
        try BlocklistLines.forEach(path: path) { entry, line in
            guard let key = kind.key(entry: entry) else {
                let text = String(decoding: entry.prefix(80), as: UTF8.self)
                throw BlocklistError(path: path, line: line, "`\(text)` is not \(kind.entryDescription)")
            }
            keys.append(key)
            entries += 1
        }
        self.init(kind: kind, path: path, entries: entries, keys: keys)
    }

    /// A list of already computed keys (tests, benchmarks).
    init(kind: BlocklistKind, path: String, entries: Int, keys: [UInt64]) {
        var keys = keys
        RadixSort.sort(&keys)
        keys.removeDuplicatesSorted()
        self.kind = kind; self.path = path; self.entries = entries; self.keys = keys
    }

    /// Whether `key` is listed.
    @inline(__always)
    func contains(_ key: UInt64) -> Bool {
        keys.withUnsafeBufferPointer { k in
            var low = 0, high = k.count
            while low < high {
                let mid = (low + high) >> 1
                if k[mid] < key { low = mid + 1 } else { high = mid }
            }
            return low < k.count && k[low] == key
        }
    }

    /// Whether `value` (a URL for a url list, a hex digest for a sha256 list) is listed.
    public func contains(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            let key: UInt64?
            switch kind {
            case .url: key = BlocklistKeys.url(bytes)
            case .sha256: key = BlocklistKeys.sha256(bytes)
            case .domain: key = BlocklistKeys.domain(bytes)
            }
            return key.map(contains) ?? false
        }
    }

    /// For a domain list: the listed domain that `url`'s host is, or is a subdomain of (the
    /// longest such), or nil. A value that is not a URL is taken as a host name.
    public func listedDomain(ofURL url: String) -> String? {
        var url = url
        return url.withUTF8 { bytes -> String? in
            guard let range = BlocklistKeys.hostRange(bytes) ?? (bytes.isEmpty ? nil : 0..<bytes.count),
                  let trimmed = BlocklistKeys.trimmedHost(UnsafeBufferPointer(rebasing: bytes[range])) else { return nil }
            let host = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + trimmed.lowerBound)..<(range.lowerBound + trimmed.upperBound)])
            // The host itself, then each suffix after a dot, longest first.
            var start = 0
            while start < host.count {
                let suffix = UnsafeBufferPointer(rebasing: host[start..<host.count])
                if let key = BlocklistKeys.domain(suffix), contains(key) {
                    return String(decoding: suffix, as: UTF8.self).lowercased()
                }
                guard let dot = host[start...].firstIndex(of: 46) else { break }
                start = dot + 1
            }
            return nil
        }
    }
}

extension Array where Element == UInt64 {
    /// Keeps the first of each run of equal values (the array is sorted).
    mutating func removeDuplicatesSorted() {
        guard count > 1 else { return }
        var write = 1
        withUnsafeMutableBufferPointer { a in
            for read in 1..<a.count where a[read] != a[write - 1] {
                a[write] = a[read]
                write += 1
            }
        }
        removeLast(count - write)
    }
}
