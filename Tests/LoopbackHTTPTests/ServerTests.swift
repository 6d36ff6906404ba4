import Foundation
import XCTest
import LoopbackHTTP

#if canImport(Glibc)
import Glibc
#endif

final class ServerTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = temporaryFolder("server")
        try FileManager.default.createDirectory(atPath: folder + "/web", withIntermediateDirectories: true)
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/web/00001.jpg"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: folder + "/../capfilt-secret-\(getpid()).txt"))
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        try? FileManager.default.removeItem(atPath: folder + "/../capfilt-secret-\(getpid()).txt")
    }

    func testServesFilesAnd404s() throws {
        let server = try LoopbackServer(root: folder)
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)
        let client = try RawClient(port: server.port)
        let ok = try client.exchange("GET /web/00001.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.body, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])
        XCTAssertEqual(ok.headers["content-type"], "image/jpeg")
        // The same connection serves the next requests (keep-alive).
        XCTAssertEqual(try client.exchange("GET /web/missing.jpg HTTP/1.1\r\nHost: x\r\n\r\n").status, 404)
        XCTAssertEqual(try client.exchange("GET /web HTTP/1.1\r\nHost: x\r\n\r\n").status, 404)
        XCTAssertEqual(try client.exchange("GET /../capfilt-secret-\(getpid()).txt HTTP/1.1\r\nHost: x\r\n\r\n").status, 404)
        XCTAssertEqual(try client.exchange("GET /web/%2e%2e/../capfilt-secret-\(getpid()).txt HTTP/1.1\r\n\r\n").status, 404)
        let head = try client.exchange("HEAD /web/00001.jpg HTTP/1.1\r\nHost: x\r\n\r\n", expectBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "7")
        XCTAssertEqual(try client.exchange("DELETE /web/00001.jpg HTTP/1.1\r\nHost: x\r\n\r\n").status, 405)
        XCTAssertEqual(try client.exchange("GET /web/00001.jpg?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)
        let last = try client.exchange("GET /web/00001.jpg HTTP/1.1\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(last.headers["connection"], "close")
        XCTAssertEqual(server.requestCount, 9)
        XCTAssertEqual(server.url("/web/00001.jpg"), "http://127.0.0.1:\(server.port)/web/00001.jpg")
    }

    /// Many connections at once, each making several requests.
    func testConcurrentKeepAliveClients() throws {
        let server = try LoopbackServer(root: folder)
        defer { server.stop() }
        let port = server.port
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            do {
                let client = try RawClient(port: port)
                for _ in 0..<3 {
                    let r = try client.exchange("GET /web/00001.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
                    if r.status != 200 || r.body.count != 7 { failures.add() }
                }
            } catch {
                failures.add()
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(server.requestCount, 600)
    }

    /// A requested port is used; stop closes idle keep-alive connections and frees the port.
    func testStopAndRequestedPort() throws {
        let first = try LoopbackServer(root: folder)
        let port = first.port
        let idle = try RawClient(port: port)
        XCTAssertEqual(try idle.exchange("GET /web/00001.jpg HTTP/1.1\r\n\r\n").status, 200)
        first.stop()
        first.stop()
        XCTAssertThrowsError(try idle.exchange("GET /web/00001.jpg HTTP/1.1\r\n\r\n"))
        let second = try LoopbackServer(root: folder, port: port)
        defer { second.stop() }
        XCTAssertEqual(second.port, port)
        XCTAssertThrowsError(try LoopbackServer(root: folder, port: port))
        XCTAssertThrowsError(try LoopbackServer(root: folder + "/nope"))
    }

    /// A handler sees the request's method, target and headers; its status, headers and body go
    /// out as given, with the body left off a HEAD answer and the connection closed on request.
    func testHandlerResponses() throws {
        let server = try LoopbackServer { request in
            switch request.path {
            case "/echo":
                return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain"), ("X-Method", request.method)],
                                    body: Array((request.headers["x-token"] ?? "none").utf8))
            case "/limited":
                return HTTPResponse(status: 429, headers: [("Retry-After", "1")])
            case "/last":
                return HTTPResponse(status: 200, body: Array("bye".utf8), closesConnection: true)
            default:
                return .status(404)
            }
        }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        let echo = try client.exchange("GET /echo HTTP/1.1\r\nX-Token: abc\r\n\r\n")
        XCTAssertEqual(echo.status, 200)
        XCTAssertEqual(echo.headers["x-method"], "GET")
        XCTAssertEqual(echo.headers["connection"], "keep-alive")
        XCTAssertEqual(echo.body, Array("abc".utf8))
        let head = try client.exchange("HEAD /echo HTTP/1.1\r\n\r\n", expectBody: false)
        XCTAssertEqual(head.headers["x-method"], "HEAD")
        XCTAssertEqual(head.headers["content-length"], "4")
        let limited = try client.exchange("GET /limited HTTP/1.1\r\n\r\n")
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.headers["retry-after"], "1")
        XCTAssertEqual(try client.exchange("GET /other HTTP/1.1\r\n\r\n").status, 404)
        let last = try client.exchange("GET /last HTTP/1.1\r\n\r\n")
        XCTAssertEqual(last.headers["connection"], "close")
        XCTAssertEqual(last.body, Array("bye".utf8))
        XCTAssertThrowsError(try client.exchange("GET /echo HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(server.requestCount, 5)
    }
}

/// A fresh folder under the temporary directory.
private func temporaryFolder(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "capfilt-loopback-\(name)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// A blocking HTTP/1.1 client on one connection: sends a request, reads one response.
private final class RawClient {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
    }

    struct Failure: Error {}

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw Failure() }
    }

    deinit { close(fd) }

    func exchange(_ request: String, expectBody: Bool = true) throws -> Response {
        let bytes = Array(request.utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure() }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = HTTPRequest.end(of: buffer)
            if headEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd!)
        let lines = head.split(separator: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let length = expectBody ? Int(headers["content-length"] ?? "0") ?? 0 : 0
        while buffer.count < length { try fill() }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure() }
        buffer.append(contentsOf: chunk[0..<n])
    }
}
