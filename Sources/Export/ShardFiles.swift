import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory upkeep a rebuild (`WebDatasetWriter`) and an update (`WebDatasetUpdate`) share.
enum ShardFiles {
    /// The file names in `directory`, sorted, so that removals happen in the same order every time.
    static func list(_ directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ExportError.io("list \(directory): \(error)", 0)
        }
    }

    static func remove(_ name: String, in directory: String) throws {
        let path = directory + "/" + name
        if unlink(path) != 0 && errno != ENOENT { throw ExportError.io("remove \(path)", errno) }
    }

    /// Removes the files of `naming` (tars, stats, sample lists, sidecars) whose shard number is
    /// not in `keeping`; syncs the directory after a removal when `durable`.
    static func removeShards(in directory: String, naming: ShardNaming, keeping: Set<Int>, durable: Bool) throws {
        var removed = false
        for name in try list(directory) {
            guard let index = naming.index(ofFileNamed: name), !keeping.contains(index) else { continue }
            try remove(name, in: directory)
            removed = true
        }
        if removed && durable { try syncDirectory(directory) }
    }
}
