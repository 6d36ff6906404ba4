import Basics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a POSIX tar archive (ustar, pax extended headers where ustar falls short) through a
/// buffer: memory stays bounded whatever the archive's size, and a member can be copied from a
/// file in chunks. Headers are deterministic (see `TarHeader`), so the same members in the
/// same order give the same bytes.
///
/// Not for concurrent use. After a failed write the archive is half a member long and every
/// later call throws `ExportError.closed`.
public final class TarWriter {
    /// The modification time written into every header (seconds since 1970).
    public let mtime: Int
    private let sink: FileSink
    private let file: AtomicFile?
    private var member: (name: String, size: Int, written: Int)?
    private var usable = true

    /// Writes the archive to `path` atomically: under `.NAME.partial` beside it until `finish()`
    /// renames it (fsyncing file and directory when `durable`).
    public convenience init(path: String, mtime: Int = 0, durable: Bool = true) throws {
        try TarWriter.check(mtime: mtime)
        let file = try AtomicFile(path: path, durable: durable, hashing: false)
        self.init(sink: file.sink, file: file, mtime: mtime)
    }

    /// Writes to a descriptor the caller owns: `finish()` flushes but neither syncs nor closes it.
    public convenience init(fileDescriptor: Int32, mtime: Int = 0) throws {
        try TarWriter.check(mtime: mtime)
        self.init(sink: FileSink(descriptor: fileDescriptor, path: "fd \(fileDescriptor)", hashing: false), file: nil, mtime: mtime)
    }

    init(sink: FileSink, file: AtomicFile?, mtime: Int) {
        self.sink = sink
        self.file = file
        self.mtime = mtime
    }

    /// Bytes of archive produced so far (buffered ones included).
    public var bytesWritten: Int { sink.bytesWritten }

    /// The bytes a member of this name and size adds to an archive (headers and padding).
    public static func memberSize(name: String, size: Int, mtime: Int = 0) -> Int {
        TarHeader.memberSize(name: name, size: size, mtime: mtime)
    }

    /// The two zero blocks that end every archive.
    public static let endOfArchiveSize = 2 * TarHeader.blockSize

    /// Adds a regular file with these contents.
    public func addFile(name: String, bytes: [UInt8]) throws {
        try beginFile(name: name, size: bytes.count)
        try write(bytes)
        try endFile()
    }

    /// Adds a regular file copied from `path` in chunks; fails if the file changes size meanwhile.
    public func addFile(name: String, contentsOfFile path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ExportError.io("open \(path)", errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw ExportError.io("stat \(path)", errno) }
        let size = Int(info.st_size)
        try beginFile(name: name, size: size)
        var chunk = [UInt8](repeating: 0, count: min(max(size, 1), 1 << 20))
        var total = 0
        while true {
            let count = retryingInterrupts { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count < 0 {
                usable = false
                throw ExportError.io("read \(path)", errno)
            }
            if count == 0 { break }
            total += count
            if total > size { break }
            try chunk.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        if total != size {
            usable = false
            throw ExportError.sizeMismatch(name: path, expected: size, actual: total)
        }
        try endFile()
    }

    /// Starts a member of known size; its bytes follow through `write`, then `endFile()`.
    public func beginFile(name: String, size: Int) throws {
        guard usable, member == nil else { throw ExportError.closed("tar member \(name)") }
        guard !name.isEmpty, !name.utf8.contains(0) else { throw ExportError.invalidTarName(name) }
        guard size >= 0 else { throw ExportError.invalidOption("negative size for \(name)") }
        try guarded { try sink.write(TarHeader.encode(name: name, size: size, mtime: mtime)) }
        member = (name, size, 0)
    }

    /// Appends bytes to the member begun by `beginFile`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard usable, let current = member else { throw ExportError.closed("tar write") }
        guard current.written + bytes.count <= current.size else {
            usable = false
            throw ExportError.sizeMismatch(name: current.name, expected: current.size, actual: current.written + bytes.count)
        }
        try guarded { try sink.write(bytes) }
        member?.written += bytes.count
    }

    /// Ends the current member: checks its size and pads it to a whole block.
    public func endFile() throws {
        guard usable, let current = member else { throw ExportError.closed("tar end of member") }
        guard current.written == current.size else {
            usable = false
            throw ExportError.sizeMismatch(name: current.name, expected: current.size, actual: current.written)
        }
        try guarded { try sink.writeZeros(TarHeader.padded(current.size) - current.size) }
        member = nil
    }

    /// Writes the end-of-archive blocks and flushes; with a path, renames the file into place.
    public func finish() throws {
        _ = try finishArchive()
    }

    /// `finish()` for the shard writer: also returns the size and digest of an atomic file.
    func finishArchive() throws -> (bytes: Int, sha256: String?) {
        guard usable, member == nil else { throw ExportError.closed("tar finish") }
        usable = false
        try sink.writeZeros(TarWriter.endOfArchiveSize)
        if let file { return try file.commit() }
        try sink.flush()
        return (sink.bytesWritten, nil)
    }

    /// Removes the temporary file of a path-based writer; nothing is left under either name.
    public func discard() {
        usable = false
        file?.discard()
    }

    private func guarded(_ body: () throws -> Void) throws {
        do { try body() } catch {
            usable = false
            throw error
        }
    }

    private static func check(mtime: Int) throws {
        guard mtime >= 0 else { throw ExportError.invalidOption("tar mtime \(mtime) is negative") }
    }
}
