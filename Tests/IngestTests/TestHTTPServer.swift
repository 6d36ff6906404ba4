import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server on a loopback address and an ephemeral port, for the fetcher tests.
/// One thread accepts, one thread per connection serves requests (keep-alive). Every path is a
/// fault or a kind of good response; see `respond(to:)`. Counts hits per path so that tests can
/// check attempts and so that "fail, then succeed" paths work.
final class TestHTTPServer: @unchecked Sendable {
    let host: String
    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let lock = NSLock()
    private var hitLog: [String: [Double]] = [:]
    private var openConnections: Set<Int32> = []
    private var stopped = false
    private let acceptDone = DispatchSemaphore(value: 0)

    init(host: String = "127.0.0.1") throws {
        self.host = host
        #if canImport(Glibc)
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw ServerError.socket("socket", errno) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw ServerError.socket("address \(host)", EINVAL) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(listener); throw ServerError.socket("bind", errno) }
        guard listen(listener, 1024) == 0 else { close(listener); throw ServerError.socket("listen", errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-http-accept"
        thread.start()
    }

    enum ServerError: Error { case socket(String, Int32) }

    var base: String { "http://\(host):\(port)" }
    func url(_ path: String) -> String { base + path }

    /// How many requests reached `path`.
    func hits(_ path: String) -> Int { lock.withLock { hitLog[path]?.count ?? 0 } }
    /// Arrival times (monotonic seconds) of the requests to `path`.
    func hitTimes(_ path: String) -> [Double] { lock.withLock { hitLog[path] ?? [] } }
    var totalHits: Int { lock.withLock { hitLog.values.reduce(0) { $0 + $1.count } } }
    /// Connections accepted so far.
    var connections: Int { lock.withLock { accepted } }
    private var accepted = 0

    func stop() {
        let connections: Set<Int32> = lock.withLock {
            stopped = true
            return openConnections
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
        acceptDone.wait()
        close(listener)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if isStopped { break }
                if errno == EMFILE || errno == ENFILE { usleep(1000); continue }
                break
            }
            let admitted = lock.withLock { () -> Bool in
                if stopped { return false }
                openConnections.insert(fd)
                accepted += 1
                return true
            }
            guard admitted else { close(fd); break }
            var noDelay: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in
                serve(fd)
                _ = lock.withLock { openConnections.remove(fd) }
                close(fd)
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        acceptDone.signal()
    }

    // MARK: - HTTP

    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while !isStopped {
            // Read one request head.
            var headEnd: Int? = nil
            while headEnd == nil {
                if let end = findHeadEnd(buffer) { headEnd = end; break }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            buffer.removeFirst(headEnd! + 4)
            let lines = head.components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            guard parts.count >= 2 else { return }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let request = Request(method: String(parts[0]), path: String(parts[1]), headers: headers)
            let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
            let hit = lock.withLock { () -> Int in
                hitLog[request.path, default: []].append(now)
                return hitLog[request.path]!.count
            }
            let keepGoing = respond(to: request, hit: hit, fd: fd)
            if !keepGoing || headers["connection"]?.lowercased() == "close" { return }
        }
    }

    private func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Serves one request; returns false when the connection must end.
    private func respond(to request: Request, hit: Int, fd: Int32) -> Bool {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let kind = parts.first ?? ""
        let id = parts.last ?? ""
        switch kind {
        case "jpeg":
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.jpeg(id))
        case "png":
            return send(fd, status: 200, headers: ["Content-Type": "image/png"], body: TestImages.png(id))
        case "largejpeg":
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.large60k)
        case "octet":
            return send(fd, status: 200, headers: ["Content-Type": "application/octet-stream"], body: TestImages.png(id))
        case "notype":
            return send(fd, status: 200, headers: [:], body: TestImages.jpeg(id))
        case "status":
            let code = Int(parts.count > 1 ? parts[1] : "500") ?? 500
            if code == 304 || code == 204 { return send(fd, status: code, headers: [:], body: []) }
            return send(fd, status: code, headers: ["Content-Type": "text/html"], body: Array("<html>error \(code)</html>".utf8))
        case "flaky500":
            if hit == 1 { return send(fd, status: 500, headers: ["Content-Type": "text/plain"], body: Array("oops".utf8)) }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.jpeg(id))
        case "always500":
            return send(fd, status: 500, headers: ["Content-Type": "text/plain"], body: Array("oops".utf8))
        case "ratelimit":
            if hit == 1 { return send(fd, status: 429, headers: ["Retry-After": "1"], body: Array("slow down".utf8)) }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.jpeg(id))
        case "ratelimitdate":
            if hit == 1 {
                let date = httpDate(Date().addingTimeInterval(1))
                return send(fd, status: 429, headers: ["Retry-After": date], body: [])
            }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.jpeg(id))
        case "drip":
            return drip(fd)
        case "manyheaders":
            // 400 header lines of 1000 bytes: 400 KB of headers in all, each line ordinary.
            let lines = (0..<400).map { "X-Filler-\($0): " + String(repeating: "b", count: 1000) + "\r\n" }.joined()
            let body = TestImages.jpeg(id)
            _ = writeAllBytes(fd, Array("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\(lines)Content-Length: \(body.count)\r\n\r\n".utf8) + body)
            return false
        case "hugeheader":
            // One header line of 200 KB (libcurl refuses a line over 100 KB).
            let body = TestImages.jpeg(id)
            let line = "X-Huge: " + String(repeating: "a", count: 200_000) + "\r\n"
            _ = writeAllBytes(fd, Array("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\(line)Content-Length: \(body.count)\r\n\r\n".utf8) + body)
            return false
        case "silent":
            while !isStopped {
                var byte: UInt8 = 0
                if recv(fd, &byte, 1, 0) <= 0 { break }
            }
            return false
        case "reset":
            let body = TestImages.large50k
            _ = writeHead(fd, status: 200, headers: ["Content-Type": "image/jpeg", "Content-Length": "\(body.count)"])
            _ = writeAllBytes(fd, Array(body[0..<1000]))
            usleep(20_000)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            return false
        case "short":
            let body = TestImages.large50k
            _ = writeHead(fd, status: 200, headers: ["Content-Type": "image/jpeg", "Content-Length": "\(body.count)"])
            _ = writeAllBytes(fd, Array(body[0..<5000]))
            shutdown(fd, Int32(SHUT_WR))
            return false
        case "redirect":
            let hops = Int(parts.count > 2 ? parts[1] : "0") ?? 0
            if hops > 0 { return redirect(fd, to: "/redirect/\(hops - 1)/\(id)") }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.jpeg(id))
        case "loop":
            let next = parts.count > 2 && parts[1] == "a" ? "b" : "a"
            return redirect(fd, to: "/loop/\(next)/\(id)")
        case "to":
            // /to/<hex of an absolute URL>
            return redirect(fd, to: String(decoding: TestImages.unhex(id), as: UTF8.self))
        case "big":
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: TestImages.large200k)
        case "bigchunked":
            return sendChunked(fd, headers: ["Content-Type": "image/jpeg"], body: TestImages.large200k)
        case "html":
            return send(fd, status: 200, headers: ["Content-Type": "text/html; charset=utf-8"],
                        body: Array("<!doctype html><html><body>not an image</body></html>".utf8))
        case "fakejpeg":
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"],
                        body: Array("<!doctype html><html><body>not an image</body></html>".utf8))
        case "empty":
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: [])
        case "robots":
            let value: String
            switch parts.count > 2 ? parts[1] : "" {
            case "noai": value = "noai"
            case "noimageindex": value = "noarchive, noimageindex"
            case "otherbot": value = "otherbot: noai, noimageai"
            case "ours": value = "capfilt: noimageai"
            default: value = "noarchive"
            }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg", "X-Robots-Tag": value], body: TestImages.jpeg(id))
        case "gzip":
            let accepts = request.headers["accept-encoding"]?.contains("gzip") ?? false
            let image = TestImages.jpeg(id)
            if !accepts { return send(fd, status: 200, headers: ["Content-Type": "image/jpeg"], body: image) }
            return send(fd, status: 200, headers: ["Content-Type": "image/jpeg", "Content-Encoding": "gzip"],
                        body: TestImages.gzipStored(image))
        default:
            return send(fd, status: 404, headers: ["Content-Type": "text/plain"], body: Array("no route".utf8))
        }
    }

    private func reason(_ code: Int) -> String {
        switch code {
        case 200: return "OK"
        case 302: return "Found"
        case 404: return "Not Found"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        default: return "Status"
        }
    }

    private func head(status: Int, headers: [String: String]) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason(status))\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }

    private func writeHead(_ fd: Int32, status: Int, headers: [String: String]) -> Bool {
        writeAllBytes(fd, head(status: status, headers: headers))
    }

    /// Head and body in one write.
    private func send(_ fd: Int32, status: Int, headers: [String: String], body: [UInt8]) -> Bool {
        var headers = headers
        headers["Content-Length"] = "\(body.count)"
        return writeAllBytes(fd, head(status: status, headers: headers) + body)
    }

    private func redirect(_ fd: Int32, to location: String) -> Bool {
        send(fd, status: 302, headers: ["Location": location, "Content-Type": "text/plain"], body: Array("moved".utf8))
    }

    private func sendChunked(_ fd: Int32, headers: [String: String], body: [UInt8]) -> Bool {
        var headers = headers
        headers["Transfer-Encoding"] = "chunked"
        guard writeHead(fd, status: 200, headers: headers) else { return false }
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + 16_384)
            let size = String(end - offset, radix: 16)
            guard writeAllBytes(fd, Array("\(size)\r\n".utf8) + body[offset..<end] + [13, 10]) else { return false }
            offset = end
        }
        return writeAllBytes(fd, Array("0\r\n\r\n".utf8))
    }

    private func drip(_ fd: Int32) -> Bool {
        let body = TestImages.large50k
        guard writeHead(fd, status: 200, headers: ["Content-Type": "image/jpeg", "Content-Length": "\(body.count)"]) else { return false }
        var sent = 0
        while sent < body.count && !isStopped {
            guard writeAllBytes(fd, [body[sent]]) else { return false }
            sent += 1
            usleep(200_000)
        }
        return false
    }

    private func writeAllBytes(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    private func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.up))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A fresh directory path for a test's blob store: on tmpfs when the machine has one, so that
/// the tests time the fetcher rather than the disk's file creation.
func scratchStorePath(_ label: String) -> String {
    var isDirectory: ObjCBool = false
    let base = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
        && access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
    return base + "capfilt-\(label)-\(UUID().uuidString)"
}

/// Deterministic test bodies.
enum TestImages {
    /// Larger bodies, the same for every id (generated once).
    static let large50k = jpeg("large", size: 50_000)
    static let large60k = jpeg("large", size: 60_000)
    static let large200k = jpeg("large", size: 200_000)

    /// Bytes that start like a JPEG, derived from `id`, ending with EOI.
    static func jpeg(_ id: String, size: Int = 2048) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01]
        bytes += noise(id, count: max(0, size - bytes.count - 2))
        return bytes + [0xFF, 0xD9]
    }

    static func png(_ id: String, size: Int = 1500) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise(id, count: max(0, size - 8))
    }

    static func noise(_ id: String, count: Int) -> [UInt8] {
        var state: UInt64 = 0xcbf29ce484222325
        for byte in id.utf8 { state = (state ^ UInt64(byte)) &* 0x100000001b3 }
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return out
    }

    static func hex(_ text: String) -> String {
        text.utf8.map { String(format: "%02x", $0) }.joined()
    }

    static func unhex(_ text: String) -> [UInt8] {
        let chars = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 1 < chars.count {
            out.append(UInt8(String(decoding: chars[i...(i + 1)], as: UTF8.self), radix: 16) ?? 0)
            i += 2
        }
        return out
    }

    /// A gzip member holding `data` in stored (uncompressed) deflate blocks.
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        var offset = 0
        repeat {
            let end = min(data.count, offset + 65_535)
            let length = end - offset
            out.append(end == data.count ? 1 : 0)
            out += [UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8((~length >> 8) & 0xff)]
            out += data[offset..<end]
            offset = end
        } while offset < data.count
        let crc = crc32(data)
        let size = UInt32(truncatingIfNeeded: data.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        return out
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
            table[i] = c
        }
        var crc: UInt32 = 0xFFFFFFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xFFFFFFFF
    }
}
