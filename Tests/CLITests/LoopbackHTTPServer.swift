import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 and an ephemeral port, for running `capfilt fetch`
/// against. One response per connection (`Connection: close`), a thread per connection. Routes
/// are set up front: a path maps to a list of responses, served in turn by hit count (the last
/// one repeats), so "fail once, then succeed" is `[.status(500), .ok(bytes)]`.
final class LoopbackHTTPServer: @unchecked Sendable {
    enum Response {
        case ok(bytes: [UInt8], contentType: String)
        case status(Int)
    }

    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let lock = NSLock()
    private var routes: [String: [Response]] = [:]
    private var hitCounts: [String: Int] = [:]
    private var stopped = false
    private let acceptDone = DispatchSemaphore(value: 0)

    init() throws {
        #if canImport(Glibc)
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw ServerError("socket", errno) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            close(listener)
            throw ServerError("bind/listen", errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ what: String, _ code: Int32) { description = "\(what): \(String(cString: strerror(code)))" }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func route(_ path: String, _ responses: Response...) {
        lock.withLock { routes[path] = responses }
    }

    func hits(_ path: String) -> Int { lock.withLock { hitCounts[path] ?? 0 } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptDone.wait()
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            if lock.withLock({ stopped }) {
                close(fd)
                break
            }
            let thread = Thread { [self] in
                serve(fd)
                close(fd)
            }
            thread.start()
        }
        acceptDone.signal()
    }

    private func serve(_ fd: Int32) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: [13, 10, 13, 10]) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += chunk[0..<n]
            if head.count > 65_536 { return }
        }
        let requestLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        guard requestLine.count >= 2 else { return }
        let path = String(requestLine[1])
        let response: Response = lock.withLock {
            hitCounts[path, default: 0] += 1
            guard let list = routes[path], !list.isEmpty else { return .status(404) }
            return list[min(hitCounts[path]! - 1, list.count - 1)]
        }
        let (code, type, body): (Int, String, [UInt8])
        switch response {
        case let .ok(bytes, contentType): (code, type, body) = (200, contentType, bytes)
        case let .status(status): (code, type, body) = (status, "text/plain", Array("status \(status)".utf8))
        }
        let text = "HTTP/1.1 \(code) \(code == 200 ? "OK" : "Error")\r\nContent-Type: \(type)\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var bytes = Array(text.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeMutableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
        shutdown(fd, Int32(SHUT_WR))
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
