import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A content-addressed store of blobs on disk: the bytes whose SHA-256 is `h` live at
/// `root/h[0..<2]/h[2..<4]/h`.
///
/// Writes are atomic: bytes go to a temporary file under `root/.tmp` (same file system), which is
/// fsynced, renamed into place and followed by an fsync of the target directory. A crash leaves at
/// worst a file under `.tmp`, never a partial file at a blob path, so `contains` needs no check
/// of the content. Temporary files older than `staleTemporaryAge` seconds are removed when a store
/// is opened (younger ones may belong to another process writing to the same store).
/// Identical bytes are stored once; storing them again is a no-op that reports `inserted: false`.
///
/// Safe to use from several threads and processes at once. A relative root is made absolute
/// against the current directory, so blob paths stay valid wherever they are read.
public final class BlobStore: Sendable {
    public let root: String
    /// fsync files and directories on commit. Off trades crash safety for speed (tests, scratch).
    public let durable: Bool

    public init(root: String, durable: Bool = true, staleTemporaryAge: Double = 600) throws {
        var trimmed = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
        self.durable = durable
        try makeDirectory(trimmed, intermediate: true)
        try makeDirectory(temporaryDirectory, intermediate: false)
        removeStaleTemporaries(olderThan: staleTemporaryAge)
    }

    var temporaryDirectory: String { root + "/.tmp" }

    /// Where the blob with this digest lives (whether or not it is there).
    public func path(for sha256: String) -> String {
        let digest = sha256.lowercased()
        let chars = Array(digest)
        guard chars.count >= 4 else { return root + "/" + digest }
        return "\(root)/\(chars[0])\(chars[1])/\(chars[2])\(chars[3])/\(digest)"
    }

    public func contains(_ sha256: String) -> Bool {
        guard SHA256.isHexDigest(sha256) else { return false }
        return access(path(for: sha256), F_OK) == 0
    }

    public func read(_ sha256: String) throws -> [UInt8] {
        guard SHA256.isHexDigest(sha256) else { throw BlobStoreError.badDigest(sha256) }
        let path = path(for: sha256)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BlobStoreError.io("read \(path)", errno)
        }
        return [UInt8](data)
    }

    /// Stores `bytes`, checking them against `expectedSHA256` first when given.
    @discardableResult
    public func put<C: Collection>(_ bytes: C, expectedSHA256: String? = nil) throws -> StoredBlob
    where C.Element == UInt8 {
        let array = Array(bytes)
        return try put(array, sha256: SHA256.hex(array), expectedSHA256: expectedSHA256)
    }

    /// A streaming writer for a blob whose digest is not known yet.
    public func makeWriter() throws -> BlobWriter { BlobWriter(store: self, file: try createTemporary()) }

    /// Removes files under `.tmp` last modified more than `seconds` ago; returns how many.
    @discardableResult
    public func removeStaleTemporaries(olderThan seconds: Double) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory) else { return 0 }
        let now = Date().timeIntervalSince1970
        var removed = 0
        for name in names {
            let path = temporaryDirectory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            #if canImport(Glibc)
            let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            #else
            let modified = Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
            #endif
            if now - modified >= seconds, unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - Internals shared with the fetcher

    /// Stores bytes whose digest the caller already computed.
    func put(_ bytes: [UInt8], sha256: String, expectedSHA256: String?) throws -> StoredBlob {
        if let expectedSHA256, expectedSHA256.lowercased() != sha256 {
            throw BlobStoreError.hashMismatch(expected: expectedSHA256.lowercased(), actual: sha256)
        }
        if contains(sha256) {
            return StoredBlob(sha256: sha256, path: path(for: sha256), size: bytes.count, inserted: false)
        }
        let file = try createTemporary()
        do {
            try bytes.withUnsafeBytes { try writeBlob(file.descriptor, $0, path: file.path) }
        } catch {
            close(file.descriptor)
            unlink(file.path)
            throw error
        }
        return try commit(TemporaryBlob(path: file.path, descriptor: file.descriptor, size: bytes.count), sha256: sha256)
    }

    func createTemporary() throws -> (path: String, descriptor: Int32) {
        for _ in 0..<8 {
            let name = String(format: "%d-%016llx", getpid(), UInt64.random(in: 0...UInt64.max))
            let path = temporaryDirectory + "/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (path, fd) }
            if errno != EEXIST { throw BlobStoreError.io("create \(path)", errno) }
        }
        throw BlobStoreError.io("create temporary in \(temporaryDirectory)", EEXIST)
    }

    /// Moves a fully written temporary file to its blob path; takes ownership of its descriptor.
    func commit(_ temporary: TemporaryBlob, sha256: String) throws -> StoredBlob {
        let final = path(for: sha256)
        if durable && fsync(temporary.descriptor) != 0 {
            let code = errno
            close(temporary.descriptor); unlink(temporary.path)
            throw BlobStoreError.io("fsync \(temporary.path)", code)
        }
        close(temporary.descriptor)
        if access(final, F_OK) == 0 {
            unlink(temporary.path)
            return StoredBlob(sha256: sha256, path: final, size: temporary.size, inserted: false)
        }
        let directory = String(final[..<final.lastIndex(of: "/")!])
        do {
            try ensureFanOut(directory)
        } catch {
            unlink(temporary.path)
            throw error
        }
        if rename(temporary.path, final) != 0 {
            let code = errno
            unlink(temporary.path)
            throw BlobStoreError.io("rename to \(final)", code)
        }
        if durable { syncDirectory(directory) }
        return StoredBlob(sha256: sha256, path: final, size: temporary.size, inserted: true)
    }

    /// Creates root/ab and root/ab/cd when missing; new directories are made durable in their parent.
    private func ensureFanOut(_ directory: String) throws {
        let parent = String(directory[..<directory.lastIndex(of: "/")!])
        for (dir, container) in [(parent, root), (directory, parent)] {
            if mkdir(dir, 0o755) == 0 {
                if durable { syncDirectory(container) }
            } else if errno != EEXIST {
                throw BlobStoreError.io("mkdir \(dir)", errno)
            }
        }
    }

    /// Best effort, as before: a folder that cannot be synced does not fail the blob.
    private func syncDirectory(_ path: String) {
        try? DurableFile.syncFolder(path)
    }

    private func makeDirectory(_ path: String, intermediate: Bool) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: intermediate)
        } catch {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw BlobStoreError.io("mkdir \(path): \(error)", 0)
            }
        }
    }
}

/// A blob in the store.
public struct StoredBlob: Sendable, Equatable {
    public var sha256: String
    public var path: String
    public var size: Int
    /// False when identical bytes were already stored.
    public var inserted: Bool
}

public enum BlobStoreError: Error, CustomStringConvertible, Equatable {
    case io(String, Int32)
    case hashMismatch(expected: String, actual: String)
    case badDigest(String)

    public var description: String {
        switch self {
        case let .io(what, code): return code == 0 ? what : "\(what): \(String(cString: strerror(code)))"
        case let .hashMismatch(expected, actual): return "sha256 \(actual), expected \(expected)"
        case let .badDigest(digest): return "not a sha256 hex digest: \(digest)"
        }
    }
}

/// A written temporary file on its way into the store. Whoever holds it owns the descriptor;
/// it is handed from the thread that wrote it to the one that commits it.
struct TemporaryBlob: Sendable {
    var path: String
    var descriptor: Int32
    var size: Int
}

/// Streams one blob into the store: write the bytes, then `commit` (or `discard`). Not for
/// concurrent use; a writer dropped without either removes its temporary file.
public final class BlobWriter {
    public let store: BlobStore
    public private(set) var size = 0
    private var hasher = SHA256()
    private var file: (path: String, descriptor: Int32)?

    init(store: BlobStore, file: (path: String, descriptor: Int32)) {
        self.store = store
        self.file = file
    }

    deinit { discard() }

    public func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        if let done = try bytes.withContiguousStorageIfAvailable({ try write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        try Array(bytes).withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file else { throw BlobStoreError.io("write after commit or discard", 0) }
        try writeBlob(file.descriptor, bytes, path: file.path)
        hasher.update(bytes)
        size += bytes.count
    }

    /// Moves the bytes into the store under their digest.
    @discardableResult
    public func commit(expectedSHA256: String? = nil) throws -> StoredBlob {
        let (temporary, sha256) = try finish()
        if let expectedSHA256, expectedSHA256.lowercased() != sha256 {
            close(temporary.descriptor); unlink(temporary.path)
            throw BlobStoreError.hashMismatch(expected: expectedSHA256.lowercased(), actual: sha256)
        }
        return try store.commit(temporary, sha256: sha256)
    }

    /// Hands over the written file and its digest; the writer is finished afterwards.
    func finish() throws -> (TemporaryBlob, String) {
        guard let file else { throw BlobStoreError.io("commit after commit or discard", 0) }
        self.file = nil
        return (TemporaryBlob(path: file.path, descriptor: file.descriptor, size: size), hasher.finalize().hexString)
    }

    public func discard() {
        guard let file else { return }
        self.file = nil
        close(file.descriptor)
        unlink(file.path)
    }
}

/// Basics' `writeAll`, failing with the store's own error.
func writeBlob(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    do { try writeAll(fd, bytes) } catch { throw BlobStoreError.io("write \(path)", error.code) }
}
