import Basics
import Foundation

public struct ReportWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write report \(path): \(reason)" }
}

/// Writes a report so that readers see either the old file or the complete new one: the page
/// goes to a temporary file in the same directory, is flushed to disk, and is renamed over the
/// destination (rename is atomic within one file system).
public enum ReportWriter {
    /// Renders `report` and writes it to `url`. Returns the number of bytes written.
    @discardableResult
    public static func write(_ report: RunReport, to url: URL) throws -> Int {
        let data = Data(render(report).utf8)
        try writeAtomically(data, to: url)
        return data.count
    }

    /// Writes `data` to `url` through a temporary file, fsync and a rename.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        do { try DurableFile.write([UInt8](data), to: url.path) } catch {
            throw ReportWriteError(path: url.path, reason: "\(error)")
        }
    }
}
