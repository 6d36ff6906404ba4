import Foundation

/// One regular file of a tar archive: its name (a pax `path` wins over the ustar fields) and where
/// its bytes lie in the archive.
public struct TarMember: Sendable, Equatable {
    public var name: String
    public var offset: Int
    public var size: Int
}

/// A streaming reader of POSIX tar archives (ustar, with pax extended headers and GNU long
/// names): it reads one 512-byte header at a time and seeks over the data, so an archive of any
/// size costs a few blocks of memory. Only regular files are returned.
public struct TarReader {
    public let url: URL
    private let handle: FileHandle
    private var position = 0

    public init(url: URL) throws {
        self.url = url
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw TrainingDataError("\(url.path): cannot open")
        }
        self.handle = handle
    }

    /// The next regular file, or nil at the end of the archive.
    public mutating func next() throws -> TarMember? {
        var paxPath: String?, paxSize: Int?, longName: String?
        while true {
            let header = try readBlock()
            // Two zero blocks end an archive; one (or a truncated file) is taken as the end too.
            guard let header, header.contains(where: { $0 != 0 }) else { return nil }
            try verifyChecksum(header)
            let type = header[156]
            let size = paxSize ?? Self.number(header[124..<136])
            let dataOffset = position
            let padded = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "x"):   // pax extended header for the next member
                let records = try readData(at: dataOffset, count: size)
                for (key, value) in Self.paxRecords(records) {
                    if key == "path" { paxPath = value }
                    if key == "size" { paxSize = Int(value) }
                }
                skip(to: dataOffset + padded)
            case UInt8(ascii: "L"):   // GNU long name for the next member
                let bytes = try readData(at: dataOffset, count: size)
                longName = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                skip(to: dataOffset + padded)
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let name = paxPath ?? longName ?? Self.ustarName(header)
                skip(to: dataOffset + padded)
                return TarMember(name: name, offset: dataOffset, size: size)
            default:                  // directories, links, global pax headers: skipped
                skip(to: dataOffset + padded)
                paxPath = nil; paxSize = nil; longName = nil
            }
        }
    }

    /// A member's bytes.
    public func read(_ member: TarMember) throws -> [UInt8] {
        try readData(at: member.offset, count: member.size)
    }

    private mutating func readBlock() throws -> [UInt8]? {
        try handle.seek(toOffset: UInt64(position))
        guard let data = try handle.read(upToCount: 512), data.count == 512 else { return nil }
        position += 512
        return [UInt8](data)
    }

    private mutating func skip(to offset: Int) { position = offset }

    private func readData(at offset: Int, count: Int) throws -> [UInt8] {
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw TrainingDataError("\(url.path): truncated member at byte \(offset)") }
        return [UInt8](data)
    }

    private func verifyChecksum(_ b: [UInt8]) throws {
        var sum = 0
        for i in 0..<512 { sum += (148..<156).contains(i) ? 32 : Int(b[i]) }
        guard Self.number(b[148..<156]) == sum else {
            throw TrainingDataError("\(url.path): bad tar header checksum at byte \(position - 512) (not a tar file?)")
        }
    }

    /// ustar name: prefix (345..<500) + "/" + name (0..<100), NUL-terminated.
    static func ustarName(_ b: [UInt8]) -> String {
        func field(_ r: Range<Int>) -> String { String(decoding: b[r].prefix { $0 != 0 }, as: UTF8.self) }
        let name = field(0..<100)
        let isUstar = b[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? field(345..<500) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// An octal numeric field (spaces / NULs around it), or GNU base-256 when the high bit is set.
    static func number(_ field: ArraySlice<UInt8>) -> Int {
        if let first = field.first, first & 0x80 != 0 {
            return field.dropFirst().reduce(Int(first & 0x7F)) { $0 << 8 | Int($1) }
        }
        var value = 0
        for c in field where c >= UInt8(ascii: "0") && c <= UInt8(ascii: "7") { value = value * 8 + Int(c - UInt8(ascii: "0")) }
        return value
    }

    /// "LEN key=value\n" records.
    static func paxRecords(_ bytes: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = [], i = 0
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)), length > 0,
                  i + length <= bytes.count else { break }
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
