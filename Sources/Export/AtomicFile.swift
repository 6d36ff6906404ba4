import Basics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that only ever appears under its final name complete: it is streamed to
/// `DIR/.NAME.partial` (same directory, so the rename cannot cross file systems), then
/// committed by Basics' `DurableFile` (fsync, rename over NAME, fsync the directory). A process
/// killed before `commit` leaves only the `.partial`.
final class AtomicFile {
    let finalPath: String
    let partialPath: String
    let sink: FileSink
    let durable: Bool
    private var isOpen = true

    /// Opens (truncating any leftover) the temporary file for `path`.
    init(path: String, durable: Bool, hashing: Bool) throws {
        finalPath = path
        partialPath = AtomicFile.partialPath(for: path)
        self.durable = durable
        let fd = openFile(partialPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ExportError.io("create \(partialPath)", errno) }
        sink = FileSink(descriptor: fd, path: partialPath, hashing: hashing)
    }

    /// Leaves the `.partial` in place, as a kill would; the next export removes it.
    deinit { if isOpen { close(sink.descriptor) } }

    /// The temporary name of `path`: a hidden file beside it.
    static func partialPath(for path: String) -> String {
        let (directory, name) = splitPath(path)
        return directory + "/." + name + ".partial"
    }

    /// Makes the file visible under its final name; returns its size and digest.
    @discardableResult
    func commit() throws -> (bytes: Int, sha256: String?) {
        guard isOpen else { throw ExportError.closed(finalPath) }
        let digest: String?
        do {
            digest = try sink.finalizeDigest()
        } catch {
            discard()
            throw error
        }
        isOpen = false
        do {
            try DurableFile.commit(descriptor: sink.descriptor, temporary: partialPath, to: finalPath, durable: durable)
        } catch {
            throw ExportError.io(error)
        }
        return (sink.bytesWritten, digest)
    }

    /// Closes and removes the temporary file.
    func discard() {
        guard isOpen else { return }
        isOpen = false
        close(sink.descriptor)
        unlink(partialPath)
    }
}

private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
    #else
    return Darwin.open(path, flags, mode)
    #endif
}

/// Directory and last component of a path ("." for a bare name).
func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = path[..<slash]
    return (directory.isEmpty ? "/" : String(directory), String(path[path.index(after: slash)...]))
}

/// fsync on a directory: makes the names created or renamed in it durable.
func syncDirectory(_ path: String) throws {
    do { try DurableFile.syncFolder(path) } catch { throw ExportError.io(error) }
}

/// Creates a directory and its parents when missing.
func makeDirectory(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        prefix += "/" + component
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw ExportError.io("mkdir \(prefix)", errno) }
    }
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw ExportError.io("not a directory: \(path)", ENOTDIR)
    }
}

/// A small file written whole, atomically (temporary name, rename).
func writeFile(_ bytes: [UInt8], to path: String, durable: Bool) throws {
    let file = try AtomicFile(path: path, durable: durable, hashing: false)
    do {
        try file.sink.write(bytes)
    } catch {
        file.discard()
        throw error
    }
    _ = try file.commit()
}

/// Pretty, sorted, newline-terminated JSON: stats and index files are read by people too.
func writeJSONFile(_ value: JSONValue, to path: String, durable: Bool) throws {
    try writeFile(DeterministicJSON(indent: 2).encodeBytes(value) + [UInt8(ascii: "\n")], to: path, durable: durable)
}
