import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server on 127.0.0.1: each request goes to a handler, or with `init(root:)`
/// serves the regular files of a folder (the demo's web split, which its fetch stage downloads
/// with libcurl as it would from the internet). Keep-alive connections (HTTP/1.1 default), one
/// thread each, closed after `idleTimeout` seconds without a request; a request with a body gets
/// 405, a malformed head 400. The accept thread holds the server until `stop()`, so call it when
/// done.
public final class LoopbackServer: @unchecked Sendable {
    /// Answers one request. Called on the connection's own thread, so it may block (to delay a
    /// response) without holding up other connections.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The port it listens on (the requested one, or the free one the kernel chose for 0).
    public let port: UInt16

    private let listener: Int32
    private let idleTimeout: Int
    private let handler: Handler
    private let lock = NSLock()
    private var clients: Set<Int32> = []
    private var stopped = false
    private var served = 0
    private let acceptDone = DispatchSemaphore(value: 0)

    /// Listens on 127.0.0.1:`port` (0: any free port) and answers every request with `handler`.
    public init(port: UInt16 = 0, idleTimeout: Int = 15, handler: @escaping Handler) throws {
        self.idleTimeout = idleTimeout
        self.handler = handler
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackServerError(call: "socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = LoopbackServerError(call: "bind 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        guard listen(fd, 1024) == 0 else {
            let error = LoopbackServerError(call: "listen")
            close(fd)
            throw error
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        self.port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "loopback-accept"
        thread.start()
    }

    /// Listens on 127.0.0.1:`port` (0: any free port) and serves the regular files under `root`
    /// (GET and HEAD; anything else 405, a missing file or a path leaving the root 404).
    public convenience init(root: String, port: UInt16 = 0, idleTimeout: Int = 15) throws {
        let files = try FolderFiles(root: root)
        try self.init(port: port, idleTimeout: idleTimeout) { files.respond($0) }
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The URL of a path on this server (`/web/00001.jpg`).
    public func url(_ path: String) -> String { baseURL + (path.hasPrefix("/") ? path : "/" + path) }

    /// Requests answered so far (any status).
    public var requestCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return served
    }

    /// Stops accepting, closes every open connection and waits for the accept loop to end.
    /// Safe to call more than once.
    public func stop() {
        lock.lock()
        if stopped {
            lock.unlock()
            return
        }
        stopped = true
        let open = clients
        lock.unlock()
        // shutdown wakes a thread blocked in accept() or recv() on the socket.
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        acceptDone.wait()
        close(listener)
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        defer { acceptDone.signal() }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR && !isStopped { continue }
                if isStopped { return }
                // EMFILE and the like: back off briefly instead of spinning.
                usleep(10_000)
                continue
            }
            lock.lock()
            if stopped {
                lock.unlock()
                close(fd)
                return
            }
            clients.insert(fd)
            lock.unlock()
            configure(fd)
            let thread = Thread { [self] in
                serve(fd)
                lock.lock()
                clients.remove(fd)
                lock.unlock()
                close(fd)
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func configure(_ fd: Int32) {
        var timeout = timeval(tv_sec: idleTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Answers requests on one connection until the client closes it, asks to, or goes idle.
    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            // Read until a complete request head is buffered.
            var headEnd = HTTPRequest.end(of: buffer)
            while headEnd == nil {
                if buffer.count > 64 * 1024 {
                    _ = send(fd, HTTPResponse.status(431).serialized(head: false, keepAlive: false))
                    return
                }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
                headEnd = HTTPRequest.end(of: buffer)
            }
            guard let end = headEnd else { return }
            let head = HTTPRequest(head: Array(buffer[0..<end]))
            buffer.removeFirst(end)
            guard let request = head else {
                _ = send(fd, HTTPResponse.status(400).serialized(head: false, keepAlive: false))
                return
            }
            if request.contentLength > 0 {
                // No request here carries a body; rather than read one, answer and close.
                _ = send(fd, HTTPResponse(status: 405, headers: [("Allow", "GET, HEAD")]).serialized(head: false, keepAlive: false))
                return
            }
            let response = handler(request)
            let keepAlive = request.keepAlive && !response.closesConnection && response.drip == nil && !isStopped
            lock.lock()
            served += 1
            lock.unlock()
            guard send(fd, response.serialized(head: request.method == "HEAD", keepAlive: keepAlive)) else { return }
            if let drip = response.drip, request.method != "HEAD" {
                while !isStopped {
                    usleep(useconds_t(drip.interval * 1_000_000))
                    guard send(fd, drip.chunk) else { return }
                }
            }
            guard keepAlive else { return }
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let n = retryingInterrupts {
                bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, bytes.count - offset, flags) }
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

public struct LoopbackServerError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(description: String) { self.description = description }

    init(call: String) { description = "\(call): \(String(cString: strerror(errno)))" }
}
