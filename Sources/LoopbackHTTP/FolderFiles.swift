import Foundation

/// The regular files under a folder, as HTTP responses: what `LoopbackServer(root:)` serves.
struct FolderFiles: Sendable {
    /// The folder, standardised (no `..`, no trailing slash).
    let root: String

    init(root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoopbackServerError(description: "\(root) is not a folder")
        }
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    static let notAllowed = HTTPResponse(
        status: 405, headers: [("Content-Type", HTTPResponse.plainText), ("Allow", "GET, HEAD")])

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else { return Self.notAllowed }
        guard let (bytes, type) = file(request.path) else {
            return HTTPResponse(status: 404, headers: [("Content-Type", HTTPResponse.plainText)], body: Array("not found\n".utf8))
        }
        return .ok(bytes, contentType: type)
    }

    /// The file a request path names, if it is a regular file inside the root.
    private func file(_ rawPath: String) -> ([UInt8], String)? {
        var path = rawPath
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<q]) }
        guard let decoded = path.removingPercentEncoding, decoded.hasPrefix("/") else { return nil }
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        let full = root + "/" + parts.joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: full)
        else { return nil }
        return ([UInt8](data), Self.contentType(full))
    }

    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "webp": return "image/webp"
        case "json": return "application/json"
        case "txt", "tsv": return HTTPResponse.plainText
        default: return "application/octet-stream"
        }
    }
}
