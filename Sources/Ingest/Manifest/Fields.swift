import Foundation

/// Text helpers shared by the readers.
enum Text {
    /// UTF-8 bytes as a String, or nil when they are not valid UTF-8.
    @inline(__always)
    static func string(_ bytes: ArraySlice<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// Index of the first `byte` in `buffer[range]` (memchr: fast in debug builds as well).
    @inline(__always)
    static func find(_ byte: UInt8, in buffer: [UInt8], _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        return buffer.withUnsafeBufferPointer { b in
            let base = b.baseAddress! + range.lowerBound
            guard let hit = memchr(base, Int32(byte), range.count) else { return nil }
            return range.lowerBound + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
        }
    }

    static func excerpt(_ bytes: ArraySlice<UInt8>, limit: Int = 200) -> String {
        let cut = bytes.prefix(limit)
        var s = String(decoding: cut, as: UTF8.self)
        if bytes.count > limit { s += "…" }
        return s
    }

    static func excerpt(_ s: String, limit: Int = 200) -> String {
        s.count > limit ? String(s.prefix(limit)) + "…" : s
    }

    /// Trims ASCII and Unicode whitespace at both ends (captions often end in a space or newline).
    static func trimmed(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return s }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The checks every URL-based and caption-based row goes through.
enum Check {
    /// The trimmed URL, or the reason it is refused.
    static func url(_ raw: String?) -> Result<String, Refusal> {
        guard let raw else { return .failure(Refusal(ManifestReason.missingURL)) }
        let url = Text.trimmed(raw)
        if url.isEmpty { return .failure(Refusal(ManifestReason.missingURL)) }
        var copy = url
        let isHTTP = copy.withUTF8 { p -> Bool in
            // "http://" or "https://", any case; indexed reads keep this cheap in debug builds too.
            guard p.count >= 7, p[0] | 0x20 == 0x68, p[1] | 0x20 == 0x74, p[2] | 0x20 == 0x74, p[3] | 0x20 == 0x70
            else { return false }
            let rest = p[4] | 0x20 == 0x73 ? 5 : 4
            return p.count >= rest + 3 && p[rest] == 0x3A && p[rest + 1] == 0x2F && p[rest + 2] == 0x2F
        }
        return isHTTP ? .success(url) : .failure(Refusal(ManifestReason.notHTTP))
    }

    /// The trimmed caption, or the reason it is refused.
    static func caption(_ raw: String?) -> Result<String, Refusal> {
        guard let raw else { return .failure(Refusal(ManifestReason.missingCaption)) }
        let caption = Text.trimmed(raw)
        return caption.isEmpty ? .failure(Refusal(ManifestReason.missingCaption)) : .success(caption)
    }
}

/// Why a row is refused (a `ManifestReason` text).
struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Resolves image paths from a manifest under an image root, refusing any that would leave it.
/// The check is lexical: `..` may not climb above the root, and an absolute path must already
/// lie inside the root. Symbolic links inside the root are trusted.
struct ImageRoot: Sendable {
    /// Absolute, normalised, without a trailing slash (except "/").
    let path: String

    init(_ root: String) {
        var absolute = root
        if !absolute.hasPrefix("/") {
            absolute = FileManager.default.currentDirectoryPath + "/" + absolute
        }
        let parts = ImageRoot.normalise(absolute.split(separator: "/", omittingEmptySubsequences: true)) ?? []
        path = "/" + parts.joined(separator: "/")
    }

    /// The root for a manifest: the option if given, else the manifest's folder.
    init(option: String?, manifest: String) {
        if let option { self.init(option); return }
        let folder = (manifest as NSString).deletingLastPathComponent
        self.init(folder.isEmpty ? "." : folder)
    }

    func resolve(_ relative: String) -> Result<String, Refusal> {
        if relative.isEmpty { return .failure(Refusal(ManifestReason.missingImage)) }
        if relative.utf8.contains(0) { return .failure(Refusal(ManifestReason.pathEscapesRoot)) }
        let rootParts = path.split(separator: "/", omittingEmptySubsequences: true)
        var parts: [Substring]
        if relative.hasPrefix("/") {
            guard let abs = ImageRoot.normalise(relative.split(separator: "/", omittingEmptySubsequences: true)),
                  abs.count > rootParts.count, abs.starts(with: rootParts)
            else { return .failure(Refusal(ManifestReason.pathEscapesRoot)) }
            parts = Array(abs.dropFirst(rootParts.count))
        } else {
            guard let rel = ImageRoot.normalise(relative.split(separator: "/", omittingEmptySubsequences: true)),
                  !rel.isEmpty
            else { return .failure(Refusal(ManifestReason.pathEscapesRoot)) }
            parts = rel
        }
        let base = path == "/" ? "" : path
        return .success(base + "/" + parts.joined(separator: "/"))
    }

    /// Removes "." and resolves ".."; nil if ".." climbs above the first component.
    private static func normalise(_ parts: [Substring]) -> [Substring]? {
        var out: [Substring] = []
        for p in parts {
            if p == "." { continue }
            if p == ".." {
                if out.isEmpty { return nil }
                out.removeLast()
            } else {
                out.append(p)
            }
        }
        return out
    }
}
