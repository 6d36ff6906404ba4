/// What the fetcher needs to know about a URL before handing it to libcurl.
struct FetchTarget: Equatable {
    /// The URL as sent: whitespace, control and non-ASCII bytes after the host are
    /// percent-encoded (web manifests are full of raw spaces and UTF-8 in paths).
    var url: String
    var scheme: String
    /// Lowercase "host:port" (or "file" for file URLs): the unit of the per-host limit.
    var hostKey: String

    enum Rejection: Error, Equatable {
        case badURL(String)
        case unsupportedProtocol(String)
    }

    static func parse(_ raw: String, allowFile: Bool) -> Result<FetchTarget, Rejection> {
        let text = raw.trimmingASCIIWhitespace()
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return .failure(.badURL("empty URL")) }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              bytes[0..<colon].allSatisfy({ isSchemeByte($0) }),
              isLetter(bytes[0])
        else { return .failure(.badURL("no scheme")) }
        let scheme = String(decoding: bytes[0..<colon], as: UTF8.self).lowercased()
        let rest = bytes[(colon + 1)...]
        guard rest.starts(with: Array("//".utf8)) else { return .failure(.badURL("no authority")) }
        switch scheme {
        case "http", "https": break
        case "file":
            guard allowFile else { return .failure(.unsupportedProtocol("file URLs are only allowed for local sources")) }
            return .success(FetchTarget(url: encodeTail(bytes, from: colon + 3), scheme: scheme, hostKey: "file"))
        default:
            return .failure(.unsupportedProtocol("scheme \(scheme)"))
        }
        let authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count, !"/?#".utf8.contains(bytes[authorityEnd]) { authorityEnd += 1 }
        var hostPort = Array(bytes[authorityStart..<authorityEnd])
        if let at = hostPort.lastIndex(of: UInt8(ascii: "@")) { hostPort = Array(hostPort[(at + 1)...]) }
        guard !hostPort.isEmpty, !hostPort.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
            return .failure(.badURL("no host"))
        }
        var host = hostPort
        var port = scheme == "https" ? "443" : "80"
        if let close = hostPort.lastIndex(of: UInt8(ascii: "]")) {
            // [v6]:port
            if close + 1 < hostPort.count {
                guard hostPort[close + 1] == UInt8(ascii: ":") else { return .failure(.badURL("bad host")) }
                port = String(decoding: hostPort[(close + 2)...], as: UTF8.self)
            }
            host = Array(hostPort[...close])
        } else if let portColon = hostPort.lastIndex(of: UInt8(ascii: ":")) {
            host = Array(hostPort[..<portColon])
            let digits = hostPort[(portColon + 1)...]
            if !digits.isEmpty { port = String(decoding: digits, as: UTF8.self) }
        }
        guard !host.isEmpty else { return .failure(.badURL("no host")) }
        guard let portNumber = Int(port), portNumber > 0, portNumber < 65536 else {
            return .failure(.badURL("bad port"))
        }
        let hostKey = String(decoding: host, as: UTF8.self).lowercased() + ":\(portNumber)"
        return .success(FetchTarget(url: encodeTail(bytes, from: authorityEnd), scheme: scheme, hostKey: hostKey))
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a }
    private static func isSchemeByte(_ b: UInt8) -> Bool {
        isLetter(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// Percent-encodes bytes from `start` on that may not appear raw in a URL; drops a fragment.
    private static func encodeTail(_ bytes: [UInt8], from start: Int) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = Array(bytes[..<start])
        out.reserveCapacity(bytes.count + 16)
        for b in bytes[start...] {
            if b == UInt8(ascii: "#") { break }
            if b <= 0x20 || b >= 0x7f || b == UInt8(ascii: "\"") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">")
                || b == UInt8(ascii: "\\") || b == UInt8(ascii: "^") || b == UInt8(ascii: "`")
                || b == UInt8(ascii: "{") || b == UInt8(ascii: "|") || b == UInt8(ascii: "}") {
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
