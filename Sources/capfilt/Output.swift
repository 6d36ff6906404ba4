import Basics
import Foundation

/// Writes one line to standard output or standard error, unbuffered per line.
enum Output {
    static func line(_ s: String) { FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!) }
    static func error(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

    static func json(_ value: JSONValue) { line(value.lineText) }

    /// Encodable values as one JSON line with sorted keys (stable across runs).
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
