import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why one sample failed a stage: a status word and a human reason.
struct StageFailure: Error, Sendable {
    var status: String
    var reason: String
    init(_ status: String, _ reason: String) { self.status = status; self.reason = reason }
}

/// A fixed-size array that concurrent workers fill, each writing only its own slots.
final class UnsafeResults<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: nil, count: count) }
    subscript(i: Int) -> T? {
        get { lock.lock(); defer { lock.unlock() }; return items[i] }
        set { lock.lock(); items[i] = newValue; lock.unlock() }
    }
}

func readAll(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StageFailure("io", "cannot read \(path)")
    }
    return [UInt8](data)
}

/// Writes `bytes` to a temporary file next to `path`, then renames it: readers never see a
/// partial file under the final name.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let folder = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let temporary = folder + "/.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
        throw StageFailure("io", "cannot write \(temporary)")
    }
    guard rename(temporary, path) == 0 else {
        unlink(temporary)
        throw StageFailure("io", "cannot rename to \(path)")
    }
}
