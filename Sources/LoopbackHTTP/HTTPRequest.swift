/// A request as the loopback server read it: the request line and the headers of an HTTP/1.x
/// head (requests carry no body here).
public struct HTTPRequest: Sendable {
    public let method: String
    /// The request target as sent (`/web/00001.jpg?x=1`), not decoded.
    public let path: String
    /// Header values by lower-cased name; a repeated header keeps its last value.
    public let headers: [String: String]
    /// Whether the client keeps the connection open after the response.
    public let keepAlive: Bool
    public let contentLength: Int

    /// Index just past the blank line ending the head in `bytes`, or nil if it is not complete.
    public static func end(of bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 3..<bytes.count where bytes[i] == 10 {
            if bytes[i - 1] == 13 && bytes[i - 2] == 10 && bytes[i - 3] == 13 { return i + 1 }
        }
        return nil
    }

    /// Parses a head (request line and headers); nil when it is malformed.
    init?(head bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        method = String(parts[0])
        path = String(parts[1])
        let http10 = parts[2] == "HTTP/1.0"
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingSpaces()
        }
        self.headers = headers
        let connection = headers["connection"]?.lowercased() ?? ""
        // HTTP/1.1 keeps the connection unless told to close; 1.0 closes unless told to keep it.
        keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close")
        contentLength = headers["content-length"].flatMap { Int($0) } ?? 0
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
