#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One regular file of a tar archive: its name (a pax `path` or GNU long name wins over the
/// ustar fields) and where its bytes lie in the archive.
public struct TarMember: Sendable, Equatable {
    public var name: String
    /// The first byte of the member's data.
    public var offset: Int
    public var size: Int
    /// The first byte of the member's entry: its pax or GNU long-name header when it has one,
    /// else its own header. Reading again from here yields this member again.
    public var entryOffset: Int

    public init(name: String, offset: Int, size: Int, entryOffset: Int) {
        self.name = name; self.offset = offset; self.size = size; self.entryOffset = entryOffset
    }

    public var byteRange: Range<Int> { offset..<(offset + size) }
}

/// Something wrong in an archive, where it was found, and the member's name when known.
public struct TarProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of damage, in words that stay the same from file to file (for counting).
    public enum Kind: String, Sendable {
        case badChecksum = "bad tar header checksum"
        case truncatedMember = "truncated tar member"
        case truncatedHeader = "truncated tar header"
        case oversizedHeader = "oversized pax or long-name header"
        case readFailed = "tar read failed"
    }

    public var kind: Kind
    public var offset: Int
    public var member: String?
    /// The details: sizes, bytes skipped.
    public var reason: String

    public var description: String {
        (member.map { "\($0) (byte \(offset))" } ?? "byte \(offset)") + ": " + kind.rawValue + ", " + reason
    }
}

/// What `TarReader.next()` found: a regular file, or a problem it stepped over.
public enum TarEntry: Sendable, Equatable {
    case member(TarMember)
    case problem(TarProblem)
}

/// A streaming reader of POSIX tar archives (ustar and v7 headers, pax extended headers, GNU
/// long names). It reads one 512-byte header at a time with `pread` and skips over the data, so
/// an archive of any size costs a few blocks of memory. Only regular files are returned.
///
/// Damaged input never stops it: a header whose checksum fails is reported and the reader
/// scans forward, block by block, to the next valid ustar header, so every intact member after
/// the damage is still returned; a member whose data runs past the end of the file (a truncated
/// archive) is reported and ends the archive.
public final class TarReader {
    public let path: String
    private let fd: Int32
    /// The size of the file when it was opened.
    public let fileSize: Int
    /// Where the next entry starts.
    public private(set) var position: Int
    private var finished = false
    private var block = [UInt8](repeating: 0, count: blockSize)

    static let blockSize = 512
    /// Pax and GNU long-name records longer than this are taken as damage.
    static let maxMetadataSize = 1 << 20

    /// Opens `path` for reading from `offset` (0, or a member's `entryOffset`).
    public init(path: String, startingAt offset: Int = 0) throws(SystemCallError) {
        let fd = retryingInterrupts { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemCallError("open \(path)") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SystemCallError("stat \(path)", code: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemCallError("\(path) is not a regular file", code: 0)
        }
        self.path = path
        self.fd = fd
        fileSize = Int(info.st_size)
        position = max(0, offset)
    }

    deinit { close(fd) }

    /// The next regular file or problem; nil at the end of the archive (two zero blocks, the end
    /// of the file, or a truncated member).
    public func next() -> TarEntry? {
        var paxPath: String?, paxSize: Int?, longName: String?
        var entryStart: Int?
        while !finished {
            let headerOffset = position
            let remaining = fileSize - headerOffset
            if remaining <= 0 { finished = true; return nil }
            if remaining < Self.blockSize {
                finished = true
                return readBlock(at: headerOffset, count: remaining) && block[0..<remaining].contains(where: { $0 != 0 })
                    ? .problem(TarProblem(kind: .truncatedHeader, offset: headerOffset, member: nil, reason: "\(remaining) of 512 bytes"))
                    : nil
            }
            guard readBlock(at: headerOffset, count: Self.blockSize) else {
                finished = true
                return .problem(TarProblem(kind: .readFailed, offset: headerOffset, member: nil, reason: String(cString: strerror(errno))))
            }
            if !block.contains(where: { $0 != 0 }) { finished = true; return nil }
            guard Self.checksumMatches(block[...]) else {
                // Damage: look for the next header that is intact, and report what was skipped.
                let resume = scanForHeader(after: headerOffset)
                position = resume ?? fileSize
                if resume == nil { finished = true }
                let skipped = (resume ?? fileSize) - headerOffset
                return .problem(TarProblem(kind: .badChecksum, offset: headerOffset, member: nil,
                                           reason: "skipped \(skipped) bytes to the next valid header"))
            }
            let type = block[156]
            let size = paxSize ?? Self.number(block[124..<136])
            let dataOffset = headerOffset + Self.blockSize
            let padded = Self.padded(size)
            if entryStart == nil { entryStart = headerOffset }
            let name = paxPath ?? longName ?? Self.ustarName(block)
            // A member that ends past the file's end was cut off: nothing after it can be read.
            if size > fileSize - dataOffset {
                finished = true
                let left = max(0, fileSize - dataOffset)
                return .problem(TarProblem(kind: .truncatedMember, offset: headerOffset, member: name,
                                           reason: "\(size) bytes of data, \(left) left in the file"))
            }
            position = min(fileSize, dataOffset + padded)
            switch type {
            case UInt8(ascii: "x"):   // pax extended header for the next member
                guard size <= Self.maxMetadataSize, let records = readData(at: dataOffset, count: size) else {
                    return .problem(TarProblem(kind: .oversizedHeader, offset: headerOffset, member: nil, reason: "pax header of \(size) bytes skipped"))
                }
                for (key, value) in Self.paxRecords(records) {
                    if key == "path" { paxPath = value }
                    if key == "size", let s = Int(value), s >= 0 { paxSize = s }
                }
            case UInt8(ascii: "L"):   // GNU long name for the next member
                guard size <= Self.maxMetadataSize, let bytes = readData(at: dataOffset, count: size) else {
                    return .problem(TarProblem(kind: .oversizedHeader, offset: headerOffset, member: nil, reason: "long name of \(size) bytes skipped"))
                }
                longName = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                return .member(TarMember(name: name, offset: dataOffset, size: size, entryOffset: entryStart ?? headerOffset))
            default:                  // directories, links, global pax headers, GNU long link names
                paxPath = nil; paxSize = nil; longName = nil; entryStart = nil
            }
        }
        return nil
    }

    /// Reads on from `offset` (a member's `entryOffset`, or a `position` taken earlier).
    public func seek(to offset: Int) {
        position = max(0, offset)
        finished = false
    }

    /// The next regular file; a problem is thrown (for readers that want a sound archive or none).
    public func nextMember() throws(TarProblem) -> TarMember? {
        switch next() {
        case .member(let m): return m
        case .problem(let p): throw p
        case nil: return nil
        }
    }

    /// A member's bytes; nil when they cannot be read in full.
    public func read(_ member: TarMember) -> [UInt8]? { readData(at: member.offset, count: member.size) }

    /// Bytes `offset..<offset+count` of the file; nil when the file is shorter or a read fails.
    public func readData(at offset: Int, count: Int) -> [UInt8]? {
        guard count >= 0, offset >= 0, count <= fileSize - offset else { return nil }
        return readAll(fd, count: count, at: offset)
    }

    private func readBlock(at offset: Int, count: Int) -> Bool {
        block.withUnsafeMutableBytes { readAll(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
    }

    /// The offset of the first block after `offset` that is an intact ustar header, read in
    /// 64 KiB chunks; nil when none is left.
    private func scanForHeader(after offset: Int) -> Int? {
        var chunkStart = offset + Self.blockSize
        let chunkSize = 128 * Self.blockSize
        while chunkStart + Self.blockSize <= fileSize {
            let count = min(chunkSize, (fileSize - chunkStart) / Self.blockSize * Self.blockSize)
            guard let chunk = readData(at: chunkStart, count: count) else { return nil }
            var b = 0
            while b + Self.blockSize <= chunk.count {
                let candidate = chunk[b..<(b + Self.blockSize)]
                if candidate[(b + 257)..<(b + 262)].elementsEqual("ustar".utf8) && Self.checksumMatches(candidate) {
                    return chunkStart + b
                }
                b += Self.blockSize
            }
            chunkStart += count
        }
        return nil
    }

    /// The stored checksum equals the header's byte sum with the checksum field read as spaces
    /// (unsigned, or signed as some old writers computed it).
    static func checksumMatches(_ header: ArraySlice<UInt8>) -> Bool {
        let base = header.startIndex
        var unsigned = 0, signed = 0
        for i in 0..<blockSize {
            let byte = (148..<156).contains(i) ? 32 : header[base + i]
            unsigned += Int(byte)
            signed += Int(Int8(bitPattern: byte))
        }
        let stored = number(header[(base + 148)..<(base + 156)])
        return stored == unsigned || stored == signed
    }

    static func padded(_ size: Int) -> Int { size > Int.max - blockSize ? Int.max : (size + blockSize - 1) / blockSize * blockSize }

    /// ustar name: prefix (345..<500) + "/" + name (0..<100), NUL-terminated.
    static func ustarName(_ b: [UInt8]) -> String {
        func field(_ r: Range<Int>) -> String { String(decoding: b[r].prefix { $0 != 0 }, as: UTF8.self) }
        let name = field(0..<100)
        let isUstar = b[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? field(345..<500) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// An octal numeric field (spaces / NULs around it), or GNU base-256 when the high bit is set.
    /// Values that would overflow come back as `Int.max` (a size no file holds).
    static func number(_ field: ArraySlice<UInt8>) -> Int {
        if let first = field.first, first & 0x80 != 0 {
            var value = Int(first & 0x3F)
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { return Int.max }
                value = value << 8 | Int(byte)
            }
            return first & 0x40 != 0 ? Int.max : value   // negative base-256: nonsense for a size
        }
        var value = 0
        for c in field where c >= UInt8(ascii: "0") && c <= UInt8(ascii: "7") {
            guard value <= (Int.max >> 3) else { return Int.max }
            value = value * 8 + Int(c - UInt8(ascii: "0"))
        }
        return value
    }

    /// "LEN key=value\n" records; a malformed record ends the list.
    static func paxRecords(_ bytes: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = [], i = 0
        while i < bytes.count {
            guard let space = bytes[i...].prefix(24).firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)), length > space - i + 1,
                  length <= bytes.count - i else { break }
            let record = bytes[(space + 1)..<(i + length - 1)]   // without the trailing newline
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                out.append((String(decoding: record[record.startIndex..<eq], as: UTF8.self),
                            String(decoding: record[(eq + 1)...], as: UTF8.self)))
            }
            i += length
        }
        return out
    }
}
