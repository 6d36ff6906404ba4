import Basics
import Catalog
import Foundation

/// Why one sample failed a stage: its status and a human reason. Also thrown for a whole-stage
/// error (a bad configuration, no data), with a `Category` in place of a sample status.
struct StageFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong with a whole stage: not a sample status, never recorded on a sample.
    enum Category: String, Sendable {
        case config, calibration, noData = "no_data"
    }

    var status: SampleStatus
    var reason: String
    init(_ status: SampleStatus, _ reason: String) { self.status = status; self.reason = reason }
    /// A whole-stage error; its message names the category where a sample's would name its status.
    init(_ category: Category, _ reason: String) { self.init(SampleStatus(rawValue: category.rawValue), reason) }

    /// As the error has always printed: `StageFailure(status: "io", reason: "cannot read …")`.
    var description: String { "StageFailure(status: \(status.rawValue.debugDescription), reason: \(reason.debugDescription))" }
}

func readAll(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StageFailure(.io, "cannot read \(path)")
    }
    return [UInt8](data)
}

/// Writes `bytes` through a temporary file next to `path` and a rename: readers never see a
/// partial file under the final name. Not fsynced: stage outputs are rebuilt after a crash.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    try FileManager.default.createDirectory(atPath: DurableFile.folder(of: path), withIntermediateDirectories: true)
    do { try DurableFile.write(bytes, to: path, durable: false) } catch {
        throw StageFailure(.io, "cannot write \(path): \(error)")
    }
}
