import Basics
import Foundation

/// Why one sample failed a stage: a status word and a human reason.
struct StageFailure: Error, Sendable {
    var status: String
    var reason: String
    init(_ status: String, _ reason: String) { self.status = status; self.reason = reason }
}

func readAll(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StageFailure("io", "cannot read \(path)")
    }
    return [UInt8](data)
}

/// Writes `bytes` through a temporary file next to `path` and a rename: readers never see a
/// partial file under the final name. Not fsynced: stage outputs are rebuilt after a crash.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    try FileManager.default.createDirectory(atPath: DurableFile.folder(of: path), withIntermediateDirectories: true)
    do { try DurableFile.write(bytes, to: path, durable: false) } catch {
        throw StageFailure("io", "cannot write \(path): \(error)")
    }
}
