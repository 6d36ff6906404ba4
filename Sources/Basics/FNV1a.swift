/// FNV-1a, 64-bit: a tiny hash that is the same on every machine, run and Swift version (Swift's
/// `Hasher` is seeded per process), for shard assignment, seeds and blocklist keys. Not for
/// anything adversarial.
///
/// Inlinable, so that hashing millions of short keys from another module (a blocklist) runs as a
/// tight loop instead of a generic call per byte.
public struct FNV1a: Sendable {
    @usableFromInline var state: UInt64 = FNV1a.offsetBasis
    @usableFromInline static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    @usableFromInline static let prime: UInt64 = 0x100_0000_01b3

    public var value: UInt64 { state }

    @inlinable public init() {}

    @inlinable public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes { update(byte: byte) }
    }

    @inlinable public mutating func update(byte: UInt8) {
        state = (state ^ UInt64(byte)) &* Self.prime
    }

    /// The hash of a string's UTF-8 bytes.
    @inlinable public static func hash(_ text: String) -> UInt64 {
        var h = FNV1a()
        h.update(text.utf8)
        return h.value
    }
}
