import Basics

/// What a blocklist lists, and how one of its entries (or a sample's value) becomes the 64-bit key
/// that is looked up. List entries and sample values go through the same function, so whatever
/// the normalisation forgives on one side it forgives on the other.
public enum BlocklistKind: String, Sendable, CaseIterable {
    /// Whole URLs. Scheme and host are compared without case (they are case-insensitive), the
    /// rest exactly; a `#fragment` is never sent to a server and is left out.
    case url
    /// Host names: an entry `example.com` blocks `example.com` and every subdomain of it
    /// (`img.cdn.example.com`), not `badexample.com`. Compared without case; a leading `*.` or
    /// `.` and a trailing `.` are dropped; an entry written as a URL stands for its host.
    case domain
    /// SHA-256 digests of image bytes, 64 hex digits in either case.
    case sha256

    /// The key of one list entry (already trimmed, not blank, not a comment), or nil when the
    /// entry cannot be one of this kind.
    func key(entry: UnsafeBufferPointer<UInt8>) -> UInt64? {
        switch self {
        case .url: return BlocklistKeys.url(entry)
        case .domain:
            guard let host = BlocklistKeys.hostRange(entry) ?? BlocklistKeys.bareDomain(entry) else { return nil }
            return BlocklistKeys.domain(UnsafeBufferPointer(rebasing: entry[host]))
        case .sha256: return BlocklistKeys.sha256(entry)
        }
    }

    /// What a valid entry looks like, for the error on an invalid one.
    var entryDescription: String {
        switch self {
        case .url: return "a URL"
        case .domain: return "a host name (letters, digits, `-`, `_` and dots) or a URL"
        case .sha256: return "a SHA-256 digest (64 hex digits)"
        }
    }
}

/// The normalisations behind the keys, on UTF-8 bytes (no String is built per entry: a list has
/// millions of them).
enum BlocklistKeys {
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }

    /// FNV-1a of the URL with scheme and authority lower-cased and the fragment left out.
    static func url(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = FNV1a()
        // Everything up to the end of the authority is lower-cased: the first `/`, `?` or `#`
        // after `://` (or, without a scheme, the first of them at all).
        let authorityStart = schemeEnd(bytes) ?? 0
        var inAuthority = true
        for i in 0..<bytes.count {
            let b = bytes[i]
            if b == 35 { break }  // '#': the fragment
            if inAuthority, i >= authorityStart, b == 47 || b == 63 { inAuthority = false }
            h.update(byte: inAuthority ? lower(b) : b)
        }
        return h.value
    }

    /// The index just after `://`, when the bytes start with a scheme.
    static func schemeEnd(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let schemeByte = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 43 || b == 45 || b == 46
            if !schemeByte { break }
            i += 1
        }
        guard i > 0, i + 3 <= bytes.count, bytes[i] == 58, bytes[i + 1] == 47, bytes[i + 2] == 47 else { return nil }
        return i + 3
    }

    /// The host of a URL (`scheme://user@host:port/...`): nil when the bytes are not a URL.
    static func hostRange(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard let start = schemeEnd(bytes) else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != 47, bytes[end] != 63, bytes[end] != 35 { end += 1 }
        var hostStart = start
        for i in start..<end where bytes[i] == 64 { hostStart = i + 1 }  // after the last '@' (user info)
        var hostEnd = end
        if hostStart < end, bytes[hostStart] == 91 {  // [IPv6]: up to the bracket
            var j = hostStart
            while j < end, bytes[j] != 93 { j += 1 }
            hostEnd = min(end, j + 1)
        } else {
            var j = hostStart
            while j < end, bytes[j] != 58 { j += 1 }  // ':port'
            hostEnd = j
        }
        return hostStart..<hostEnd
    }

    /// A domain entry as written: every byte a host name byte.
    static func bareDomain(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        for b in bytes {
            let ok = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 45 || b == 46 || b == 95 || b == 42
            if !ok { return nil }
        }
        return 0..<bytes.count
    }

    /// The host trimmed of a leading `*.` or `.` and trailing dots (`example.com.` is
    /// `example.com` in DNS), or nil when nothing is left.
    static func trimmedHost(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var start = 0, end = bytes.count
        if end - start >= 2, bytes[start] == 42, bytes[start + 1] == 46 { start += 2 }
        while start < end, bytes[start] == 46 { start += 1 }
        while end > start, bytes[end - 1] == 46 { end -= 1 }
        return start < end ? start..<end : nil
    }

    /// FNV-1a of the lower-cased, trimmed host (nil when empty).
    static func domain(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard let range = trimmedHost(bytes) else { return nil }
        var h = FNV1a()
        for i in range { h.update(byte: lower(bytes[i])) }
        return h.value
    }

    /// FNV-1a of the lower-cased hex digits, nil unless there are exactly 64 of them.
    static func sha256(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count == 64 else { return nil }
        var h = FNV1a()
        for b in bytes {
            let hex = (b >= 48 && b <= 57) || (b >= 97 && b <= 102) || (b >= 65 && b <= 70)
            if !hex { return nil }
            h.update(byte: lower(b))
        }
        return h.value
    }
}
