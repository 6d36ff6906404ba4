/// POSIX ustar headers, with a pax extended header in front when a field does not fit.
///
/// Every header is deterministic: mode 0644, uid/gid 0, empty user and group names, the given
/// mtime, no device numbers. A pax header (type 'x') carries `path` when the name is longer than
/// the 100-byte ustar field or not plain ASCII (the pax path is UTF-8 by definition; a bare ustar
/// name has no encoding), and `size` / `mtime` when they exceed ustar's 11 octal digits.
enum TarHeader {
    static let blockSize = 512
    /// The largest value of an 11-digit octal field: 8 GiB - 1.
    static let maxOctalValue = 0o77777777777

    /// Bytes a member occupies in the archive: its header blocks plus its data padded to 512.
    static func memberSize(name: String, size: Int, mtime: Int) -> Int {
        let records = paxRecords(name: name, size: size, mtime: mtime)
        let pax = records.isEmpty ? 0 : blockSize + padded(records.count)
        return pax + blockSize + padded(size)
    }

    /// The header block(s) of a regular file.
    static func encode(name: String, size: Int, mtime: Int) -> [UInt8] {
        let records = paxRecords(name: name, size: size, mtime: mtime)
        let nameBytes = Array(name.utf8)
        var out = [UInt8]()
        if !records.isEmpty {
            out += block(name: Array("PaxHeaders/".utf8) + nameBytes, size: records.count,
                         mtime: min(mtime, maxOctalValue), type: UInt8(ascii: "x"))
            out += records
            out += [UInt8](repeating: 0, count: padded(records.count) - records.count)
        }
        out += block(name: nameBytes, size: size <= maxOctalValue ? size : 0,
                     mtime: mtime <= maxOctalValue ? mtime : 0, type: UInt8(ascii: "0"))
        return out
    }

    /// Rounds a byte count up to whole blocks.
    static func padded(_ count: Int) -> Int { (count + blockSize - 1) / blockSize * blockSize }

    /// The pax records a member needs ("LEN key=value\n", in a fixed order); empty when none.
    static func paxRecords(name: String, size: Int, mtime: Int) -> [UInt8] {
        var out = [UInt8]()
        let nameBytes = Array(name.utf8)
        if nameBytes.count > 100 || nameBytes.contains(where: { $0 >= 0x80 }) { out += record("path", nameBytes) }
        if size > maxOctalValue { out += record("size", Array(String(size).utf8)) }
        if mtime > maxOctalValue { out += record("mtime", Array(String(mtime).utf8)) }
        return out
    }

    /// One pax record; its leading decimal length counts itself.
    private static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = key.utf8.count + value.count + 3 // the space, '=' and '\n'
        var length = body + 1
        while length != body + String(length).utf8.count { length = body + String(length).utf8.count }
        return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    }

    /// One 512-byte ustar block. A name that does not fit (or is not ASCII) is stored
    /// shortened, non-ASCII bytes as '_', for readers that ignore pax; the pax path wins.
    private static func block(name: [UInt8], size: Int, mtime: Int, type: UInt8) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: blockSize)
        let stored = name.prefix(100).map { $0 >= 0x80 ? UInt8(ascii: "_") : $0 }
        b.replaceSubrange(0..<stored.count, with: stored)
        put(octal: 0o644, width: 8, at: 100, in: &b)
        put(octal: 0, width: 8, at: 108, in: &b)
        put(octal: 0, width: 8, at: 116, in: &b)
        put(octal: size, width: 12, at: 124, in: &b)
        put(octal: mtime, width: 12, at: 136, in: &b)
        b[156] = type
        b.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
        put(octal: 0, width: 8, at: 329, in: &b)
        put(octal: 0, width: 8, at: 337, in: &b)
        // The checksum is the byte sum with its own field read as eight spaces, written as six
        // octal digits, NUL, space.
        b.replaceSubrange(148..<156, with: repeatElement(UInt8(ascii: " "), count: 8))
        let sum = b.reduce(0) { $0 + Int($1) }
        put(octal: sum, width: 7, at: 148, in: &b)
        return b
    }

    /// Zero-padded octal digits filling `width - 1` bytes, then NUL.
    private static func put(octal value: Int, width: Int, at offset: Int, in b: inout [UInt8]) {
        var digits = Array(String(value, radix: 8).utf8)
        digits.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)), at: 0)
        b.replaceSubrange(offset..<offset + width - 1, with: digits)
        b[offset + width - 1] = 0
    }
}
