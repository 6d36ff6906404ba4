#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files that only ever appear under their final name complete: written to a temporary name in
/// the same file system, fsynced, renamed over the final name, and the folder fsynced so the
/// rename itself survives a crash. With `durable` off both fsyncs are skipped (faster; a crash
/// may then leave an empty or missing file, never a partial one under the final name).
public enum DurableFile {
    /// Writes `bytes` to `path`. The temporary file is created in `temporaryFolder` (which must
    /// be on the same file system), or beside `path` when nil.
    public static func write(_ bytes: [UInt8], to path: String, temporaryFolder: String? = nil,
                             durable: Bool = true) throws(SystemCallError) {
        let (descriptor, temporary) = try createTemporary(in: temporaryFolder ?? folder(of: path))
        do {
            try writeAll(descriptor, bytes)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw SystemCallError("write \(temporary)", code: error.code)
        }
        try commit(descriptor: descriptor, temporary: temporary, to: path, durable: durable)
    }

    /// Creates a new, empty temporary file in `folder`, named `.<pid>-<random>.tmp`.
    public static func createTemporary(in folder: String) throws(SystemCallError) -> (descriptor: Int32, path: String) {
        while true {
            let path = folder + "/.\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".tmp"
            let descriptor = retryingInterrupts { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
            if descriptor >= 0 { return (descriptor, path) }
            if errno != EEXIST { throw SystemCallError("create \(path)") }
        }
    }

    /// Finishes a temporary file written through `descriptor`: fsync (when durable), close,
    /// rename to `path`, fsync the folder (when durable). Takes the descriptor; on failure the
    /// temporary file is removed.
    public static func commit(descriptor: Int32, temporary: String, to path: String,
                              durable: Bool) throws(SystemCallError) {
        if durable && retryingInterrupts({ fsync(descriptor) }) != 0 {
            let code = errno
            close(descriptor)
            unlink(temporary)
            throw SystemCallError("fsync \(temporary)", code: code)
        }
        if close(descriptor) != 0 {
            let code = errno
            unlink(temporary)
            throw SystemCallError("close \(temporary)", code: code)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw SystemCallError("rename \(temporary) to \(path)", code: code)
        }
        if durable { try syncFolder(folder(of: path)) }
    }

    /// fsync on a folder: makes the names created or renamed in it durable.
    public static func syncFolder(_ path: String) throws(SystemCallError) {
        let descriptor = retryingInterrupts { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if descriptor < 0 { throw SystemCallError("open directory \(path)") }
        defer { close(descriptor) }
        if retryingInterrupts({ fsync(descriptor) }) != 0 { throw SystemCallError("fsync directory \(path)") }
    }

    /// The folder part of a path ("." for a bare name, "/" for a file at the root).
    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
