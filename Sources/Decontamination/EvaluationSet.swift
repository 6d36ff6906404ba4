import Basics
import Foundation
import Imaging
import Ingest

/// One image of an evaluation set: its name as the set knows it (the manifest's image path, or
/// the path under the folder) and the file that holds it.
public struct EvaluationImageFile: Sendable, Equatable {
    public var name: String
    public var path: String
    public init(name: String, path: String) { self.name = name; self.path = path }
}

/// An entry of an evaluation set that names no local image file (a URL, say): reported, never matched.
public struct EvaluationSetProblem: Sendable, Equatable {
    public var name: String
    public var reason: String
}

/// Where an evaluation set's images come from: a manifest read by Ingest's readers (any
/// format they know, images local), or a folder of image files.
public enum EvaluationSetSource: Sendable, Equatable {
    case manifest(path: String, format: ManifestFormat?, options: ManifestOptions)
    case folder(path: String)
}

/// The images of one evaluation set, in a fixed order (manifest order; sorted paths for a
/// folder), listed without reading them.
public struct EvaluationSet: Sendable {
    public let name: String
    public let source: EvaluationSetSource
    public let images: [EvaluationImageFile]
    public let problems: [EvaluationSetProblem]

    public init(name: String, source: EvaluationSetSource) throws {
        self.name = name
        self.source = source
        switch source {
        case .manifest(let path, let format, let options):
            (images, problems) = try Self.manifestImages(path: path, format: format, options: options)
        case .folder(let path):
            images = try Self.folderImages(path)
            problems = []
        }
    }

    /// The default name of a set: the base name of its file or folder, without the extension.
    public static func defaultName(path: String) -> String {
        let base = (path as NSString).lastPathComponent
        return base.contains(".") ? (base as NSString).deletingPathExtension : base
    }

    /// A digest of what the set holds: every image's name and content digest (`fileDigest`, the
    /// file's SHA-256; a caller may pass a cached one), in order, and the problem entries. A
    /// changed, added or removed image changes it; moving the set elsewhere does not.
    public func contentDigest(fileDigest: (String) throws -> String = EvaluationSet.sha256) -> String {
        var hasher = SHA256()
        for image in images {
            let digest = (try? fileDigest(image.path)) ?? "unreadable"
            hasher.update(Array("\(image.name)\t\(digest)\n".utf8))
        }
        for problem in problems { hasher.update(Array("\(problem.name)\t\(problem.reason)\n".utf8)) }
        return hasher.finalize().hexString
    }

    /// The SHA-256 of a file's bytes.
    public static func sha256(path: String) throws -> String { SHA256.hex(try readImageBytes(path)) }

    private static func manifestImages(path: String, format: ManifestFormat?, options: ManifestOptions) throws
        -> ([EvaluationImageFile], [EvaluationSetProblem]) {
        var reader = try openManifest(path: path, format: format, options: options)
        var images: [EvaluationImageFile] = []
        var problems: [EvaluationSetProblem] = []
        let root = options.imageRoot ?? (path as NSString).deletingLastPathComponent
        while let record = try reader.next() {
            switch record {
            case .sample(let s):
                if let local = s.localPath {
                    images.append(EvaluationImageFile(name: relativeName(local, root: root), path: local))
                } else if let url = s.url, let file = localFile(url) {
                    images.append(EvaluationImageFile(name: relativeName(file, root: root), path: file))
                } else {
                    problems.append(EvaluationSetProblem(name: s.url ?? s.key, reason: "not a local file"))
                }
            case .malformed(let p):
                problems.append(EvaluationSetProblem(name: "\(p.file):\(p.line ?? p.record ?? 0)", reason: p.reason))
            }
        }
        return (images, problems)
    }

    /// A `file://` URL or an absolute path names a local file; anything else (http) does not.
    private static func localFile(_ url: String) -> String? {
        if url.hasPrefix("file://") { return String(url.dropFirst("file://".count)) }
        return url.hasPrefix("/") ? url : nil
    }

    private static func relativeName(_ path: String, root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Every regular file under `folder` that is an image by its first bytes (JPEG, PNG, WebP, ...)
    /// or by its extension, recursively, in sorted path order. Other files (a README) are not part
    /// of the set; a damaged `.jpg` is, and is reported as unreadable when the index is built.
    private static func folderImages(_ folder: String) throws -> [EvaluationImageFile] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw EvaluationSetError("\(folder): cannot list the folder")
        }
        var names: [String] = []
        while let next = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            let path = folder + "/" + next
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            names.append(next)
        }
        return names.sorted().compactMap { name in
            let path = folder + "/" + name
            guard let handle = FileHandle(forReadingAtPath: path) else { return EvaluationImageFile(name: name, path: path) }
            defer { try? handle.close() }
            let head = [UInt8]((try? handle.read(upToCount: 64)) ?? Data())
            let named = imageExtensions.contains((name as NSString).pathExtension.lowercased())
            return ImageFormat.sniff(head) == nil && !named ? nil : EvaluationImageFile(name: name, path: path)
        }
    }
}

private let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"]

public struct EvaluationSetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bytes of an image file.
func readImageBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw EvaluationSetError("cannot read \(path)") }
    return [UInt8](data)
}
