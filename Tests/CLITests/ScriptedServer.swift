import Foundation
import LoopbackHTTP

/// A loopback server for running `capfilt fetch` against, with routes set up front: a path maps
/// to a list of responses, served in turn by hit count (the last one repeats), so "fail once, then
/// succeed" is `[.status(500), .ok(bytes)]`. Unknown paths get 404.
final class ScriptedServer: @unchecked Sendable {
    enum Response {
        case ok(bytes: [UInt8], contentType: String)
        case status(Int)

        var http: HTTPResponse {
            switch self {
            case let .ok(bytes, contentType): return .ok(bytes, contentType: contentType)
            case let .status(code): return .status(code)
            }
        }
    }

    private let lock = NSLock()
    private var routes: [String: [Response]] = [:]
    private var hitCounts: [String: Int] = [:]
    private var server: LoopbackServer!

    init() throws {
        server = try LoopbackServer { [weak self] request in self?.respond(to: request) ?? .status(503) }
    }

    var port: UInt16 { server.port }

    func url(_ path: String) -> String { server.url(path) }

    func route(_ path: String, _ responses: Response...) {
        lock.withLock { routes[path] = responses }
    }

    func hits(_ path: String) -> Int { lock.withLock { hitCounts[path] ?? 0 } }

    func stop() { server.stop() }

    private func respond(to request: HTTPRequest) -> HTTPResponse {
        let response: Response = lock.withLock {
            hitCounts[request.path, default: 0] += 1
            guard let list = routes[request.path], !list.isEmpty else { return .status(404) }
            return list[min(hitCounts[request.path]! - 1, list.count - 1)]
        }
        return response.http
    }
}
