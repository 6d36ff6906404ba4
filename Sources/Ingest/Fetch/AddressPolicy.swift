#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which addresses the fetcher may connect to.
///
/// The check runs when libcurl opens a socket, on the numeric address it is about to connect to,
/// so it covers every hop of a redirect chain and is immune to DNS answers that change between
/// lookup and connect. With `refuseNonPublic` on (the default for web sources), these are refused:
///
/// - IPv4: 0.0.0.0/8, 10/8, 100.64/10 (carrier NAT), 127/8, 169.254/16, 172.16/12, 192.0.0/24,
///   192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4
///   (which includes 255.255.255.255)
/// - IPv6: ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8, 100::/64, 2001:db8::/32, and the
///   IPv4 address inside ::ffff:0:0/96, ::/96, 64:ff9b::/96 and 2002::/16 is checked as IPv4
/// - anything that is not a numeric IPv4 or IPv6 address (e.g. a Unix socket)
///
/// `treatAsPublic` lists numeric addresses that pass anyway; tests use it to stand in for a
/// public host on the loopback interface.
public struct AddressPolicy: Sendable, Equatable {
    public var refuseNonPublic: Bool
    public var treatAsPublic: Set<String>

    public init(refuseNonPublic: Bool = true, treatAsPublic: Set<String> = []) {
        self.refuseNonPublic = refuseNonPublic
        self.treatAsPublic = treatAsPublic
    }

    public static let allowAll = AddressPolicy(refuseNonPublic: false)

    /// Whether a connection to `address` (numeric, as inet_ntop writes it) is allowed.
    public func allows(_ address: String) -> Bool {
        guard refuseNonPublic else { return true }
        if treatAsPublic.contains(address) { return true }
        return Self.isPublic(address)
    }

    /// Whether a numeric IPv4 or IPv6 address is globally routable (see the type's notes).
    public static func isPublic(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            return isPublicIPv4(value)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return isPublicIPv6(bytes)
        }
        return false
    }

    static func isPublicIPv4(_ a: UInt32) -> Bool {
        func within(_ prefix: UInt32, _ bits: UInt32) -> Bool {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
            return a & mask == prefix & mask
        }
        let blocked: [(UInt32, UInt32)] = [
            (0x0000_0000, 8), (0x0A00_0000, 8), (0x6440_0000, 10), (0x7F00_0000, 8),
            (0xA9FE_0000, 16), (0xAC10_0000, 12), (0xC000_0000, 24), (0xC000_0200, 24),
            (0xC058_6300, 24), (0xC0A8_0000, 16), (0xC612_0000, 15), (0xC633_6400, 24),
            (0xCB00_7100, 24), (0xE000_0000, 4), (0xF000_0000, 4),
        ]
        return !blocked.contains { within($0.0, $0.1) }
    }

    static func isPublicIPv6(_ b: [UInt8]) -> Bool {
        precondition(b.count == 16)
        func embeddedV4(at offset: Int) -> UInt32 {
            UInt32(b[offset]) << 24 | UInt32(b[offset + 1]) << 16 | UInt32(b[offset + 2]) << 8 | UInt32(b[offset + 3])
        }
        let firstTen = b[0..<10].allSatisfy { $0 == 0 }
        // ::/128, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        if firstTen && b[10] == 0 && b[11] == 0 {
            let v4 = embeddedV4(at: 12)
            if v4 <= 1 { return false }
            return isPublicIPv4(v4)
        }
        // IPv4-mapped ::ffff:a.b.c.d
        if firstTen && b[10] == 0xff && b[11] == 0xff { return isPublicIPv4(embeddedV4(at: 12)) }
        // NAT64 well-known prefix 64:ff9b::/96
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicIPv4(embeddedV4(at: 12))
        }
        // 6to4 2002:V4ADDR::/48
        if b[0] == 0x20 && b[1] == 0x02 { return isPublicIPv4(embeddedV4(at: 2)) }
        if b[0] & 0xfe == 0xfc { return false }                      // fc00::/7 unique local
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }      // fe80::/10 link-local
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return false }      // fec0::/10 site-local
        if b[0] == 0xff { return false }                             // multicast
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return false }  // 100::/64 discard
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false }     // documentation
        return true
    }
}
