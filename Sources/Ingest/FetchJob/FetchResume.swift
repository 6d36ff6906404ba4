import Basics
import Foundation

/// Keys already in the results file.
struct FetchResume {
    var done: Set<String> = []

    private struct Line: Decodable {
        var key: String
        var status: FetchStatus
        var imageStatus: String?
        enum CodingKeys: String, CodingKey { case key, status, imageStatus = "image_status" }
    }

    /// Statuses worth another try with --retry-failed.
    static let transient: Set<FetchStatus> = [.timeout, .connect, .dns, .truncated, .http429, .http5xx, .transferError, .ioError]

    /// Reads `path` (if it exists). A final line cut short by a crash is removed from the file.
    static func read(path: String, retryFailed: Bool) throws -> FetchResume {
        var state = FetchResume()
        guard FileManager.default.fileExists(atPath: path) else { return state }
        var reader = try? LineReader(path: path)
        let decoder = JSONDecoder()
        var latest: [String: Bool] = [:]
        while let line = try? reader?.next() {
            let bytes = reader!.input.buffer[line.range]
            guard !bytes.isEmpty, let parsed = try? decoder.decode(Line.self, from: Data(bytes)) else { continue }
            // An image that could not be written (disk full) is as transient as a timeout.
            latest[parsed.key] = transient.contains(parsed.status)
                || parsed.imageStatus == FetchImageOutcome.Status.ioError.rawValue
        }
        for (key, isTransient) in latest where !(retryFailed && isTransient) { state.done.insert(key) }
        try dropPartialLastLine(path)
        return state
    }

    private static func dropPartialLastLine(_ path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var end = lseek(fd, 0, SEEK_END)
        guard end > 0 else { return }
        var byte: UInt8 = 0
        var scanned = 0
        // Walk back to the last newline.
        while end > 0 {
            _ = retryingInterrupts { pread(fd, &byte, 1, end - 1) }
            if byte == 10 { break }
            end -= 1
            scanned += 1
        }
        if scanned > 0 {
            guard ftruncate(fd, end) == 0 else { throw FetchJobError.invalidInput("cannot repair the last line of \(path)") }
            FetchJob.log("removed an incomplete last line from \(path)")
        }
    }
}
