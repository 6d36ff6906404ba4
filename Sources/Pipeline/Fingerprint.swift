import Basics
import Foundation

/// A stage's fingerprint: SHA-256 over its type and the type's revision, the parameters that
/// affect results, its extra inputs (model digests) and the fingerprints of the stages it needs.
/// Changing any of them gives a new fingerprint, which makes the stage, and so everything
/// downstream, run again. Revision 1 is left out of the hash, so a type's first revision keeps
/// the fingerprints work folders already hold.
enum Fingerprint {
    static func of(type: String, revision: Int = 1, parameters: String, inputs: [String], upstream: [String]) -> String {
        var h = SHA256()
        let typePart = revision == 1 ? type : "\(type)@\(revision)"
        for part in ["capfilt-stage-v1", typePart, parameters] + inputs + ["|"] + upstream.sorted() {
            h.update(Array(part.utf8))
            h.update([0])
        }
        return String(h.finalizeHex().prefix(16))
    }
}

/// Digest of a file's bytes, cached by (path, size, modification time): in memory for the life of
/// the process and, when `cacheFile` is set, on disk across runs (hashing two BLIP-base checkpoints
/// takes seconds; `capfilt status` should not).
public enum FileDigest {
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    nonisolated(unsafe) private static var loadedFrom: String?
    nonisolated(unsafe) public static var cacheFile: String?
    private static let lock = NSLock()

    public static func sha256(path: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let cacheKey = "\(path)|\(size)|\(mtime)"
        lock.lock()
        loadDiskCache()
        if let hit = cache[cacheKey] { lock.unlock(); return hit }
        lock.unlock()
        guard let file = FileHandle(forReadingAtPath: path) else { throw PipelineError(file: path, line: nil, key: nil, "cannot read") }
        defer { try? file.close() }
        var h = SHA256()
        while let chunk = try file.read(upToCount: 1 << 22), !chunk.isEmpty { h.update(chunk) }
        let digest = h.finalizeHex()
        lock.lock()
        cache[cacheKey] = digest
        saveDiskCache()
        lock.unlock()
        return digest
    }

    private static func loadDiskCache() {
        guard let file = cacheFile, loadedFrom != file else { return }
        loadedFrom = file
        if let data = FileManager.default.contents(atPath: file),
           let saved = try? JSONDecoder().decode([String: String].self, from: data) {
            cache.merge(saved) { current, _ in current }
        }
    }

    private static func saveDiskCache() {
        guard let file = cacheFile, let data = try? JSONEncoder().encode(cache) else { return }
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
