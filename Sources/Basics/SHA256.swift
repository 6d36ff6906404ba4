internal import CSHA256

/// SHA-256 (FIPS 180-4), incremental. Names blobs in the store, verifies the hashes that some
/// manifests carry, fingerprints pipeline stages and digests exported files. Buffering and padding are here; the compression rounds are the C
/// function `csha256_blocks`. A value type: copying it forks the running hash.
public struct SHA256: Sendable {
    private var state: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    /// A partial block waiting for the rest of it (`pendingCount` bytes used).
    private var pending = [UInt8](repeating: 0, count: 64)
    private var pendingCount = 0
    private var length: UInt64 = 0

    public init() {}

    /// The hex digest of `bytes`.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize().hexString
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, remaining)
            let offset = pendingCount
            pending.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<take { buffer[offset + i] = base[i] }
            }
            pendingCount += take
            base += take
            remaining -= take
            if pendingCount < 64 { return }
            pending.withUnsafeBufferPointer { block in
                state.withUnsafeMutableBufferPointer { csha256_blocks($0.baseAddress!, block.baseAddress!, 1) }
            }
            pendingCount = 0
        }
        let blocks = remaining / 64
        if blocks > 0 {
            state.withUnsafeMutableBufferPointer { csha256_blocks($0.baseAddress!, base, blocks) }
            base += blocks * 64
            remaining -= blocks * 64
        }
        if remaining > 0 {
            pending.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<remaining { buffer[i] = base[i] }
            }
            pendingCount = remaining
        }
    }

    /// The 32-byte digest. The hasher should not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        let used = (pendingCount + 1) % 64
        tail.append(contentsOf: repeatElement(0, count: used <= 56 ? 56 - used : 120 - used))
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        tail.withUnsafeBytes { update($0) }
        precondition(pendingCount == 0)
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }
}

extension SHA256 {
    /// The digest as lowercase hex.
    public mutating func finalizeHex() -> String { finalize().hexString }
}

extension Array where Element == UInt8 {
    /// Lowercase hex.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA256 {
    /// True for a 64-character hex digest, in lowercase or uppercase.
    public static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }
}
