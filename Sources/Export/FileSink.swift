import Basics

/// Buffered, hashing writes to a file descriptor. Small writes (tar headers, JSON records) are
/// gathered into one buffer; a write larger than the buffer goes straight to the descriptor, so
/// memory stays bounded by the buffer whatever the file's size. The SHA-256 of everything
/// written is kept as it streams (for `shards.json`), when asked for.
final class FileSink {
    /// Named in error messages.
    let path: String
    let descriptor: Int32
    /// Bytes accepted so far, buffered ones included: the file's size once flushed.
    private(set) var bytesWritten = 0
    private var buffer: [UInt8]
    private let capacity: Int
    private var hasher: SHA256?

    init(descriptor: Int32, path: String, capacity: Int = 1 << 20, hashing: Bool) {
        self.descriptor = descriptor
        self.path = path
        self.capacity = max(capacity, 512)
        self.buffer = []
        self.buffer.reserveCapacity(self.capacity)
        self.hasher = hashing ? SHA256() : nil
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count <= capacity {
            buffer.append(contentsOf: bytes)
        } else {
            try flush()
            if bytes.count < capacity {
                buffer.append(contentsOf: bytes)
            } else {
                hasher?.update(bytes)
                try writeFully(bytes)
            }
        }
        bytesWritten += bytes.count
    }

    func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        if buffer.count + count > capacity { try flush() }
        if count <= capacity {
            buffer.append(contentsOf: repeatElement(0, count: count))
            bytesWritten += count
        } else {
            try write([UInt8](repeating: 0, count: count))
        }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { bytes in
            hasher?.update(bytes)
            try writeFully(bytes)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// The digest of all bytes written; call once, after the last write.
    func finalizeDigest() throws -> String? {
        try flush()
        return hasher?.finalizeHex()
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        do { try writeAll(descriptor, bytes) } catch { throw ExportError.io("write \(path)", error.code) }
    }
}
