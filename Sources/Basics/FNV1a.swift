/// FNV-1a, 64-bit: a tiny hash that is the same on every machine, run and Swift version (Swift's
/// `Hasher` is seeded per process), for shard assignment and seeds. Not for anything adversarial.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x100_0000_01b3

    public init() {}

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes { value = (value ^ UInt64(byte)) &* Self.prime }
    }

    /// The hash of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var h = FNV1a()
        h.update(text.utf8)
        return h.value
    }
}
