/// What a loopback server's handler answers. The server adds `Content-Length` and `Connection`;
/// the body is left out of the answer to a HEAD request (its length stays).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers besides `Content-Length` and `Connection`, written in this order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Close the connection after this response even if the client would keep it.
    public var closesConnection: Bool
    /// A body that never completes (to test clients that must abandon a transfer): nil for the
    /// usual complete `body`.
    public var drip: Drip?

    /// `Content-Length` announces `announcedLength`; `body` goes out at once, then `chunk` every
    /// `interval` seconds until the client goes away or the server stops. The connection closes.
    public struct Drip: Sendable {
        public var announcedLength: Int
        public var chunk: [UInt8]
        public var interval: Double

        public init(announcedLength: Int, chunk: [UInt8], interval: Double) {
            self.announcedLength = announcedLength; self.chunk = chunk; self.interval = interval
        }
    }

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                closesConnection: Bool = false, drip: Drip? = nil) {
        self.status = status; self.headers = headers; self.body = body; self.closesConnection = closesConnection
        self.drip = drip
    }

    /// 200 with a body of the given type.
    public static func ok(_ body: [UInt8], contentType: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", contentType)], body: body)
    }

    /// Any status with a short plain-text body naming it (`status 503`).
    public static func status(_ code: Int) -> HTTPResponse {
        HTTPResponse(status: code, headers: [("Content-Type", plainText)], body: Array("status \(code)\n".utf8))
    }

    static let plainText = "text/plain; charset=utf-8"

    /// The status line's reason phrase.
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }

    /// The bytes on the wire: status line, headers, blank line, and the body unless `head`.
    func serialized(head: Bool, keepAlive: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(drip?.announcedLength ?? body.count)\r\n"
        text += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        text += "\r\n"
        return Array(text.utf8) + (head ? [] : body)
    }
}
