import Basics
import Foundation
import Compression

/// An open file read with POSIX calls: sequential reads for text, positioned reads for Parquet.
final class InputFile {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ManifestError.io(file: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw ManifestError.io(file: path, reason: "is a directory")
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ManifestError.io(file: path, reason: String(cString: strerror(errno))) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    var size: Int {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Reads up to `count` bytes into `buffer[at...]`; 0 at the end of the file.
    func read(into buffer: inout [UInt8], at offset: Int, count: Int) throws -> Int {
        precondition(offset + count <= buffer.count)
        let n = retryingInterrupts {
            buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress! + offset, count) }
        }
        if n >= 0 { return n }
        throw ManifestError.io(file: path, reason: String(cString: strerror(errno)))
    }

    /// Exactly `count` bytes from `offset`, or an error naming what was being read.
    func read(count: Int, offset: Int, what: String) throws -> [UInt8] {
        guard count >= 0, offset >= 0, offset + count <= size else {
            throw ManifestError.corrupt(file: path, reason: "\(what) lies outside the file")
        }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = retryingInterrupts {
                out.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done)) }
            }
            if n < 0 {
                throw ManifestError.io(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw ManifestError.corrupt(file: path, reason: "\(what) is truncated") }
            done += n
        }
        return out
    }
}

/// Streaming gzip (and zlib) decoding (the Compression module's `GzipStream`), with errors that
/// name the file. Concatenated members are read one after the other.
final class GzipDecoder {
    private let stream: GzipStream
    private let path: String

    init(path: String) throws {
        guard let stream = GzipStream() else { throw ManifestError.io(file: path, reason: "cannot start the gzip decoder") }
        self.stream = stream
        self.path = path
    }

    /// Decodes from `input[inRange]` into `output[outStart..<outEnd]`; returns (consumed, produced).
    func step(_ input: [UInt8], _ inRange: Range<Int>, _ output: inout [UInt8], _ outStart: Int, _ outEnd: Int)
        throws -> (Int, Int)
    {
        do {
            return try input.withUnsafeBufferPointer { inp in
                try output.withUnsafeMutableBufferPointer { out in
                    try stream.step(UnsafeBufferPointer(rebasing: inp[inRange]),
                                    into: UnsafeMutableBufferPointer(rebasing: out[outStart..<outEnd]))
                }
            }
        } catch let error as GzipStreamError {
            throw ManifestError.corrupt(file: path, reason: "gzip: \(error)")
        }
    }

    /// True between members: the input may end here without being truncated.
    var atMemberBoundary: Bool { stream.atMemberBoundary }
}

/// Bytes of a file, gunzipped on the fly when the file starts with the gzip magic. Callers read
/// `buffer[start..<end]`, advance `start`, and call `fill()` for more.
final class ByteReader {
    let path: String
    private let file: InputFile
    private var gzip: GzipDecoder?
    private var raw: [UInt8] = []
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false

    private(set) var buffer: [UInt8]
    var start = 0
    private(set) var end = 0
    private(set) var eof = false
    let isGzip: Bool
    /// Bytes handed out before `buffer[0]` (for offsets in messages).
    private(set) var discarded = 0

    static let chunkSize = 1 << 20

    init(path: String) throws {
        self.path = path
        file = try InputFile(path: path)
        buffer = [UInt8](repeating: 0, count: ByteReader.chunkSize)
        // Sniff the gzip magic with a raw read; the bytes read are kept as the first input.
        var head = [UInt8](repeating: 0, count: ByteReader.chunkSize)
        var n = 0
        while n < 2 {
            let got = try file.read(into: &head, at: n, count: head.count - n)
            if got == 0 { break }
            n += got
        }
        if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            isGzip = true
            gzip = try GzipDecoder(path: path)
            raw = head
            rawEnd = n
        } else {
            isGzip = false
            buffer = head
            end = n
        }
    }

    /// Makes more bytes available after `end`, keeping `buffer[start..<end]`. Returns false at
    /// the end of the input. The buffer grows when `start..<end` fills it.
    @discardableResult
    func fill() throws -> Bool {
        if eof { return false }
        if start > 0 {
            let kept = end - start
            if kept > 0 {
                buffer.withUnsafeMutableBytes { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, kept)
                }
            }
            discarded += start
            end = kept
            start = 0
        }
        if end == buffer.count {
            buffer += [UInt8](repeating: 0, count: buffer.count)
        }
        while true {
            let got = try produce()
            if got > 0 { end += got; return true }
            if eof { return false }
        }
    }

    private func produce() throws -> Int {
        guard let gzip else {
            let n = try file.read(into: &buffer, at: end, count: buffer.count - end)
            if n == 0 { eof = true }
            return n
        }
        if rawStart == rawEnd && !rawEOF {
            rawStart = 0
            rawEnd = try file.read(into: &raw, at: 0, count: raw.count)
            if rawEnd == 0 { rawEOF = true }
        }
        if rawStart == rawEnd && rawEOF {
            eof = true
            if !gzip.atMemberBoundary {
                throw ManifestError.corrupt(file: path, reason: "gzip stream is truncated")
            }
            return 0
        }
        let (consumed, produced) = try gzip.step(raw, rawStart..<rawEnd, &buffer, end, buffer.count)
        if consumed == 0 && produced == 0 && !gzip.atMemberBoundary {
            throw ManifestError.corrupt(file: path, reason: "gzip decoder made no progress")
        }
        rawStart += consumed
        return produced
    }

    /// Reads until at least `count` bytes are buffered or the input ends; returns what there is.
    func prefix(_ count: Int) throws -> ArraySlice<UInt8> {
        while end - start < count, try fill() {}
        return buffer[start..<min(end, start + count)]
    }
}
