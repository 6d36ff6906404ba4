import Basics
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Requests answered without the network: an image inside a local archive is read with one
/// `pread` and checked as a download would be (size limit, image signature, expected digest),
/// then committed to the store like a body; a failure the source recorded becomes its result.
enum LocalAnswer {
    static func answer(_ request: FetchRequest, options: FetchOptions) -> (FetchResult, BodyCommit) {
        var result = FetchResult(key: request.key, url: request.url, status: .transferError, attempts: 0)
        if let failure = request.sourceFailure {
            result.status = SourceFailure.status(for: failure)
            result.error = failure
            return (result, .none)
        }
        guard let path = request.archivePath, let member = request.member else { return (result, .none) }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { result.latencySeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        result.attempts = 1
        result.finalURL = nil
        guard member.size <= options.maxBodyBytes else {
            result.status = .tooLarge
            result.error = "member of \(member.size) bytes is over the \(options.maxBodyBytes)-byte limit"
            return (result, .none)
        }
        guard let bytes = readRange(path: path, offset: member.offset, count: member.size) else {
            result.status = .ioError
            result.error = "cannot read bytes \(member.offset)..<\(member.offset + member.size) of \(path): \(String(cString: strerror(errno)))"
            return (result, .none)
        }
        result.bytes = bytes.count
        guard let format = SniffedFormat.sniff(bytes.prefix(SniffedFormat.prefixLength)) else {
            result.status = .notImage
            result.error = bytes.isEmpty ? "empty member" : "member is not an image (by its first bytes)"
            return (result, .none)
        }
        let digest = SHA256.hex(bytes)
        result.sha256 = digest
        if let expected = request.expectedSHA256, expected.lowercased() != digest {
            result.status = .hashMismatch
            result.error = "sha256 \(digest), expected \(expected.lowercased())"
            return (result, .none)
        }
        result.status = .local
        result.format = format
        return (result, .memory(bytes, sha256: digest))
    }

    /// Exactly `count` bytes at `offset`, or nil (a short file, a read error).
    private static func readRange(path: String, offset: Int, count: Int) -> [UInt8]? {
        let fd = retryingInterrupts { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, count: count, at: offset)
    }
}
