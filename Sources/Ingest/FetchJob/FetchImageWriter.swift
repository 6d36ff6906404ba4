import Basics
import Foundation
import Imaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns fetched bodies into resized JPEG files (`fetch --images DIR`): reads the blob, decodes,
/// resizes with img2dataset's modes (Pillow-exact filters), encodes and writes `DIR/<name>.jpg`
/// through a temporary file and a rename, so a crash never leaves a partial image under a final
/// name. The work runs on a pool of its own threads, never on the fetcher's threads.
final class FetchImageWriter: Sendable {
    let directory: String
    private let resizer: ExportResizer
    private let quality: Int
    private let durable: Bool
    private let pool: FetchWorkPool
    private let tally = FetchImageTally()

    init(options: FetchImageSettings, durable: Bool) throws {
        let images = options.directory
        var root = images.hasPrefix("/") ? images : FileManager.default.currentDirectoryPath + "/" + images
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        directory = root
        resizer = options.resizer
        quality = options.quality
        self.durable = durable
        do {
            try FileManager.default.createDirectory(atPath: root + "/.tmp", withIntermediateDirectories: true)
        } catch {
            throw FetchImageWriterError("cannot create \(root)/.tmp: \(error)")
        }
        Self.removeStaleTemporaries(in: root + "/.tmp")
        // Twice the workers waiting keeps them busy without holding many results.
        pool = FetchWorkPool(workers: options.threads, capacity: 2 * options.threads, name: "capfilt.fetch.images")
    }

    /// Queues an `ok` result; `completion` runs on a worker thread with the outcome. Blocks while
    /// the queue is full.
    func submit(_ result: FetchResult, completion: @escaping @Sendable (FetchImageOutcome) -> Void) {
        pool.submit { [self] in
            let outcome = process(result)
            tally.add(outcome.status)
            completion(outcome)
        }
    }

    /// Waits for every queued image; call once, after the fetcher returned.
    func finish() { pool.finish() }

    /// Outcomes so far, most frequent first.
    var counts: [(FetchImageOutcome.Status, Int)] { tally.counts }

    func process(_ result: FetchResult) -> FetchImageOutcome {
        guard let blob = result.blob else { return FetchImageOutcome(status: .ioError, error: "no blob") }
        let bytes: [UInt8]
        do { bytes = try readFile(blob) } catch { return FetchImageOutcome(status: .ioError, error: "\(error)") }
        let decoded: RGBImage
        do {
            decoded = try ImageDecoder.decode(bytes)
        } catch {
            return FetchImageOutcome(status: error.kind == .unsupportedFormat ? .unsupportedFormat : .decodeError,
                                     error: error.description)
        }
        let resized = resizer(decoded)
        let jpeg: [UInt8]
        do { jpeg = try ImageEncoder.jpeg(resized, quality: quality) } catch {
            return FetchImageOutcome(status: .encodeError, error: error.description)
        }
        let path = directory + "/" + Self.fileName(forKey: result.key) + ".jpg"
        do { try writeAtomically(jpeg, to: path) } catch {
            return FetchImageOutcome(status: .ioError, error: "\(error)")
        }
        return FetchImageOutcome(status: .ok, path: path, width: resized.width, height: resized.height,
                                 originalWidth: decoded.width, originalHeight: decoded.height)
    }

    /// The file name (without `.jpg`) of a key: letters, digits, `-`, `_` and `.` stay, every other
    /// byte becomes `%XX` (a leading `.` too, so no name is hidden or `..`). Names that would be
    /// longer than 200 bytes keep their first 150 and add `~` and 32 hex digits of the key's
    /// SHA-256; `~` never appears otherwise, so the two forms cannot collide.
    static func fileName(forKey key: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            let plain = (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a)
                || byte == 0x2D || byte == 0x5F || (byte == 0x2E && !out.isEmpty)
            if plain {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        if out.isEmpty { return "%" }
        if out.count > 200 {
            out = Array(out.prefix(150)) + Array("~".utf8) + Array(SHA256.hex(Array(key.utf8)).prefix(32).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        do { try DurableFile.write(bytes, to: path, temporaryFolder: directory + "/.tmp", durable: durable) } catch {
            throw FetchImageWriterError(error.operation, error.code)
        }
    }

    /// Temporaries older than 10 minutes are left over from a crash (younger ones may belong to
    /// another run writing to the same folder).
    private static func removeStaleTemporaries(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let now = Date().timeIntervalSince1970
        for name in names {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            #if canImport(Glibc)
            let modified = Double(info.st_mtim.tv_sec)
            #else
            let modified = Double(info.st_mtimespec.tv_sec)
            #endif
            if now - modified >= 600 { unlink(path) }
        }
    }
}

/// Reads a whole file into one array (no `Data` in between).
private func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FetchImageWriterError("open \(path)", errno) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FetchImageWriterError("stat \(path)", errno) }
    let size = Int(info.st_size)
    var failure: FetchImageWriterError?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        var offset = 0
        while offset < size {
            let n = retryingInterrupts { read(fd, buffer.baseAddress! + offset, size - offset) }
            if n <= 0 {
                failure = FetchImageWriterError(n < 0 ? "read \(path)" : "\(path) is shorter than its size", n < 0 ? errno : 0)
                break
            }
            offset += n
        }
        initialized = offset
    }
    if let failure { throw failure }
    return bytes
}

public struct FetchImageWriterError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String, _ code: Int32 = 0) {
        description = code == 0 ? what : "\(what): \(String(cString: strerror(code)))"
    }
}

/// Outcome counts for the closing log line.
private final class FetchImageTally: Sendable {
    private let byStatus = Locked<[FetchImageOutcome.Status: Int]>([:])

    func add(_ status: FetchImageOutcome.Status) {
        byStatus.withLock { $0[status, default: 0] += 1 }
    }

    var counts: [(FetchImageOutcome.Status, Int)] {
        byStatus.current.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }
}
