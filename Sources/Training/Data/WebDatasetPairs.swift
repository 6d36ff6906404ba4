import Basics
import Foundation
import Ingest

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
            let reader: TarReader
            do { reader = try TarReader(path: shard.path) } catch { throw TrainingDataError("\(shard.path): \(error)") }
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
            // Training wants a sound shard: the first damage stops it with where it was found.
            func nextMember() throws -> TarMember? {
                do { return try reader.nextMember() } catch { throw TrainingDataError("\(shard.path): \(error)") }
            }
            func read(_ member: TarMember) throws -> [UInt8] {
                guard let bytes = reader.read(member) else { throw TrainingDataError("\(shard.path): cannot read \(member.name)") }
                return bytes
            }
            while let member = try nextMember() {
                let (memberKey, ext) = WebDatasetKey.split(member.name)
                if memberKey != key {
                    flush()
                    key = memberKey; image = nil; caption = nil; identity = nil; grouped = nil
                }
                switch ext.lowercased() {
                case let e where WebDatasetKey.imageExtensions.contains(e):
                    if image == nil { image = member }
                case "txt":
                    caption = String(decoding: try read(member), as: UTF8.self)
                case "json":
                    let data = Data(try read(member))
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
}

/// The shards under a WebDataset folder (`*.tar`, sorted by name); a `.tar` file is itself
/// (Ingest's listing, the one the ingest stage uses).
public func webDatasetShards(at url: URL) throws -> [URL] {
    do {
        return try webDatasetShards(path: url.path, pattern: nil).map(URL.init(fileURLWithPath:))
    } catch {
        throw TrainingDataError("\(error)")
    }
}
