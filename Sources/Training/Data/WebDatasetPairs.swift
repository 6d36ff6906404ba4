import Foundation

extension TrainingPair {
    /// Pairs from WebDataset tar shards (as the Export module writes them: `KEY.jpg` / `.png` /
    /// `.webp`, `KEY.txt`, optional `KEY.json`). A sample's members are consecutive and share the
    /// key: the member name up to the first `.` of its file name. Images stay in the shard: a pair
    /// records the byte range, read when its batch is made. Samples without an image or a caption
    /// are skipped and counted. A sample exported with `group_by_image` (`KEY.json` has a `texts`
    /// list) gives one pair per text, as a BLIP json entry with a caption list does. Image ids
    /// (retrieval fine-tuning) come from `KEY.json`'s `sha256`, else its `image` or `url`, else
    /// the key, numbered in order of first appearance.
    public static func webDataset(shards: [URL]) throws -> (pairs: [TrainingPair], skipped: Int) {
        var pairs: [TrainingPair] = [], skipped = 0
        var ids: [String: Int] = [:]
        for shard in shards {
            var reader = try TarReader(url: shard)
            var key: String?
            var image: TarMember?, caption: String?, identity: String?, grouped: [String]?
            func flush() {
                guard let key else { return }
                if let image, let captions = grouped ?? caption.map({ [$0] }) {
                    let name = identity ?? "key:" + key
                    let id = ids[name] ?? ids.count
                    ids[name] = id
                    pairs += captions.map {
                        TrainingPair(imagePath: shard.path, caption: $0, imageID: id,
                                     imageBytes: image.offset..<(image.offset + image.size))
                    }
                } else {
                    skipped += 1
                }
            }
            while let member = try reader.next() {
                let (memberKey, ext) = splitKey(member.name)
                if memberKey != key {
                    flush()
                    key = memberKey; image = nil; caption = nil; identity = nil; grouped = nil
                }
                switch ext.lowercased() {
                case "jpg", "jpeg", "png", "webp":
                    if image == nil { image = member }
                case "txt":
                    caption = String(decoding: try reader.read(member), as: UTF8.self)
                case "json":
                    let data = Data(try reader.read(member))
                    if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                        identity = ["sha256", "image", "url"].lazy.compactMap { k in
                            (object[k] as? String).map { k + ":" + $0 }
                        }.first
                        let texts = (object["texts"] as? [[String: Any]])?.compactMap { $0["caption"] as? String }
                        if let texts, !texts.isEmpty { grouped = texts }
                    }
                default:
                    break
                }
            }
            flush()
        }
        return (pairs, skipped)
    }

    /// WebDataset's split of a member name: key = the path up to the first `.` of the file name.
    public static func splitKey(_ name: String) -> (key: String, ext: String) {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
}

/// The shards under a WebDataset folder (`*.tar`, sorted by name); a `.tar` file is itself.
public func webDatasetShards(at url: URL) throws -> [URL] {
    if url.pathExtension == "tar" { return [url] }
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".tar") }.sorted()
    guard !names.isEmpty else { throw TrainingDataError("\(url.path): no .tar shards") }
    return names.map { url.appendingPathComponent($0) }
}
