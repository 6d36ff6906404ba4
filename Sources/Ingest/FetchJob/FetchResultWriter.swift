import Foundation

/// Appends result lines, from the results queue and the image threads. Flushes about once a second.
final class FetchResultWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private let encoder: JSONEncoder
    private var buffer = Data()
    private var lastFlush = Date()
    private var failure: Error?

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw FetchJobError.invalidInput("cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw FetchJobError.invalidInput("cannot open \(path)") }
        self.handle = handle
        handle.seekToEndOfFile()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    func write(_ result: FetchResultLine) {
        lock.lock(); defer { lock.unlock() }
        guard let line = try? encoder.encode(result) else { return }
        buffer.append(line)
        buffer.append(10)
        if buffer.count > 1 << 20 || Date().timeIntervalSince(lastFlush) > 1 { flush() }
    }

    private func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        do { try handle.write(contentsOf: buffer) } catch { failure = error }
        buffer.removeAll(keepingCapacity: true)
        lastFlush = Date()
    }

    /// Call after the fetcher returned (no more writes).
    func close() throws {
        lock.lock(); defer { lock.unlock() }
        flush()
        try handle.synchronize()
        try handle.close()
        if let failure { throw failure }
    }
}
