import Basics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ShardSample {
    /// What identifies the sample's bytes in a shard, without reading its files: SHA-256 over
    /// every member's name and content, where a member given as bytes counts its bytes and one
    /// given as a file counts its path and size. capfilt's image files are named by their content
    /// (`blobs/ab/cd/<sha256>.jpg`, `resized/ab/<sha256>.jpg`), so the path stands for the bytes.
    /// 32 hex digits (128 bits): two different samples of one export share a digest with a
    /// probability below 2^-64 for up to 2^32 samples.
    public func contentDigest() throws -> String {
        var hash = SHA256()
        for member in members {
            hash.update(Array(member.name.utf8) + [0])
            switch member.content {
            case .bytes(let bytes):
                hash.update(Array("b\(bytes.count)\u{0}".utf8))
                hash.update(bytes)
            case .file(let path):
                var info = stat()
                guard stat(path, &info) == 0 else { throw ExportError.io("stat \(path)", errno) }
                hash.update(Array("f\(info.st_size)\u{0}\(path)\u{0}".utf8))
            }
        }
        return String(hash.finalizeHex().prefix(32))
    }
}
