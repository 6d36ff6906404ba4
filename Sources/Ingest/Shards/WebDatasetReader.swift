import Basics
import Foundation

/// WebDataset shards as a manifest: tar files whose consecutive members `KEY.EXT` make one
/// sample each, as img2dataset writes them (`KEY.jpg`, `KEY.txt`, `KEY.json`), plus the failed
/// rows of img2dataset's Parquet sidecar beside each shard, and its success rows whose members
/// the tar lacks (`missing_from_shard`).
///
/// - the image is the first member with an image extension (jpg, jpeg, png, webp); it stays in
///   the shard: the sample records the shard as `localPath` and the member's byte range;
/// - the caption is `KEY.txt` (else the json's `caption`); a sample without one is kept (the
///   captioner can still write one);
/// - `KEY.json`'s `url` is the sample's URL (for URL dedup); its other keys (width, height,
///   LAION's similarity, punsafe, ...) go into metadata;
/// - sample keys are `SHARD/KEY` (the shard's file name without `.tar`), unique across shards.
///
/// Damage costs only what is damaged: the tar reader reports a bad header or a truncated
/// member and goes on, each report becomes a problem record, and a key left without an image
/// member is a problem of its own (naming the key). Nothing is extracted to disk; memory holds one sample.
public struct WebDatasetReader: ResumableManifestReader {
    public let shards: [String]
    private let context: ReaderContext
    private var shard = 0
    private var inSidecar = false
    private var tar: TarReader?
    private var sidecar: Img2DatasetSidecar?
    /// The records of the current step (one sample and the problems met while reading it).
    private var queue: [ManifestRecord] = []
    private var head = 0
    /// Where the current step started in the tar.
    private var stepStart = 0
    private var sidecarRowsDone = 0
    /// The keys (file-name part) of the current shard's tar so far: a sidecar success row whose
    /// key is not among them lost its members, and is kept as a sample that says so.
    private var tarKeys: Set<String> = []

    init(shards: [String], context: ReaderContext) {
        self.shards = shards
        self.context = context
    }

    public mutating func next() throws -> ManifestRecord? {
        while true {
            if head < queue.count {
                head += 1
                return queue[head - 1]
            }
            guard shard < shards.count else { return nil }
            if inSidecar {
                if let record = try nextSidecarRecord() { return record }
                shard += 1
                inSidecar = false
                stepStart = 0
                tar = nil
                tarKeys = []
            } else {
                readStep()
            }
        }
    }

    // MARK: - Position

    /// `tar INDEX OFFSET SKIP NAME`: reading shard INDEX from OFFSET yields SKIP records already
    /// returned, then new ones; `sidecar INDEX ROW NAME`: the sidecar's failed rows from ROW;
    /// `end COUNT`. The name guards against a shard list that changed between runs.
    public var position: String {
        guard shard < shards.count else { return "end \(shards.count)" }
        let name = shardName(shard)
        if head < queue.count { return "tar \(shard) \(stepStart) \(head) \(name)" }
        if inSidecar { return "sidecar \(shard) \(sidecar?.nextRow ?? sidecarRowsDone) \(name)" }
        return "tar \(shard) \(tar?.position ?? stepStart) 0 \(name)"
    }

    public mutating func resume(at position: String) throws {
        let parts = position.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        func refuse(_ why: String) -> ManifestError {
            .corrupt(file: shards.first ?? "", reason: "cannot resume at `\(position)`: \(why)")
        }
        if parts.first == "end" {
            guard parts.count == 2, Int(parts[1]) == shards.count else { throw refuse("the shard list changed") }
            shard = shards.count
            return
        }
        let fields = parts.first == "tar" ? 5 : 4
        guard parts.count == fields, let index = Int(parts[1]), let offset = Int(parts[2]), index >= 0, index < shards.count
        else { throw refuse("not a shard position") }
        guard parts[fields - 1] == shardName(index) else { throw refuse("shard \(index) is now \(shardName(index))") }
        shard = index
        queue = []; head = 0
        rebuildTarKeys(before: parts[0] == "sidecar" ? Int.max : offset)
        if parts[0] == "sidecar" {
            inSidecar = true
            sidecarRowsDone = offset
            openSidecar()
            queue = []   // a sidecar that cannot be opened was reported before the position was taken
            if sidecar != nil {
                do { try sidecar!.skip(to: offset) } catch { sidecar = nil }
            }
            return
        }
        guard let skip = Int(parts[3]) else { throw refuse("not a shard position") }
        inSidecar = false
        stepStart = offset
        tar = nil
        if skip > 0 {
            readStep()
            head = min(skip, queue.count)
        }
    }

    // MARK: - Tar

    /// Reads one sample's members (and the problems met on the way) into `queue`.
    private mutating func readStep() {
        queue.removeAll(keepingCapacity: true)
        head = 0
        let path = shards[shard]
        if tar == nil {
            do {
                tar = try TarReader(path: path, startingAt: stepStart)
            } catch {
                queue.append(context.problem(file: path, "cannot open shard", excerpt: "\(error)"))
                finishTar()
                return
            }
        }
        guard let tar else { return }
        stepStart = tar.position
        var group: MemberGroup?
        while true {
            guard let entry = tar.next() else {
                if let g = group { emit(g) }
                finishTar()
                return
            }
            switch entry {
            case .problem(let p):
                // The reason stays the same from shard to shard; where and how much go in the excerpt.
                queue.append(context.problem(file: path, p.kind.rawValue, excerpt: "\(p.member ?? "-") at byte \(p.offset): \(p.reason)"))
            case .member(let m):
                let (key, ext) = WebDatasetKey.split(m.name)
                if let g = group, g.key != key {
                    // The next sample starts here: read it again in the next step.
                    tar.seek(to: m.entryOffset)
                    emit(g)
                    return
                }
                if group == nil {
                    group = MemberGroup(key: key)
                    tarKeys.insert(Self.lastComponent(key))
                }
                add(m, ext: ext.lowercased(), to: &group!, tar: tar)
            }
        }
    }

    private mutating func finishTar() {
        tar = nil
        inSidecar = true
        sidecarRowsDone = 0
        openSidecar()
    }

    private func add(_ m: TarMember, ext: String, to group: inout MemberGroup, tar: TarReader) {
        let path = shards[shard]
        func problem(_ reason: String) {
            group.problems.append(context.problem(file: path, reason, excerpt: m.name))
        }
        switch ext {
        case let e where WebDatasetKey.imageExtensions.contains(e):
            if group.image == nil { group.image = m }
        case "txt":
            guard let bytes = tar.read(m) else { return problem("cannot read the member") }
            guard let text = Text.string(bytes[...]) else { return problem(ManifestReason.invalidUTF8) }
            group.caption = text
        case "json":
            guard let bytes = tar.read(m) else { return problem("cannot read the member") }
            do {
                group.json = try JSONParser.parse(bytes)
            } catch {
                problem("bad JSON in the .json member")
            }
        default:
            break   // other members (`.cls`, `.npy`, ...) are not read
        }
    }

    /// Turns a complete group into records: its members' problems, then the sample (or why
    /// there is none).
    private mutating func emit(_ g: MemberGroup) {
        let path = shards[shard]
        queue += g.problems
        guard let image = g.image else {
            queue.append(context.problem(file: path, "no image member", excerpt: g.key))
            return
        }
        var metadata: [String: String] = [:]
        if case .object(let members)? = g.json {
            for (k, v) in members where k != "url" && k != "caption" {
                if let text = v.metadataText { metadata[k] = text }
            }
        }
        let captionText = g.caption ?? g.json?["caption"]?.stringValue
        let captions = (try? Check.caption(captionText).get()).map { [$0] } ?? []
        let url = g.json?["url"]?.stringValue.map(Text.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        queue.append(context.sample(key: shardName(shard) + "/" + g.key, url: url, localPath: path, captions: captions,
                                    metadata: metadata, member: ArchiveMember(offset: image.offset, size: image.size)))
    }

    // MARK: - Sidecar

    private mutating func openSidecar() {
        sidecar = nil
        let path = sidecarPath(shards[shard])
        guard access(path, F_OK) == 0 else { return }
        do {
            sidecar = try Img2DatasetSidecar(path: path)
        } catch {
            queue.append(context.problem(file: path, "sidecar not read", excerpt: "\(error)"))
        }
    }

    private mutating func nextSidecarRecord() throws -> ManifestRecord? {
        guard sidecar != nil else { return nil }
        let keys = tarKeys
        do {
            guard let row = try sidecar!.nextFailed(inTar: { keys.contains($0) }) else { sidecar = nil; return nil }
            let key = row.key ?? String(row.row)
            let captions = (try? Check.caption(row.caption).get()).map { [$0] } ?? []
            return context.sample(key: shardName(shard) + "/" + key, url: row.url, captions: captions,
                                  metadata: row.metadata, sourceFailure: row.failure)
        } catch {
            // A damaged sidecar ends here; the rows already read stand.
            let path = sidecar!.path
            sidecarRowsDone = Int.max   // resuming does not report it again
            sidecar = nil
            return context.problem(file: path, "sidecar ends early", excerpt: "\(error)")
        }
    }

    /// The tar's keys up to `offset` (a resumed reader did not see them go by): headers only.
    private mutating func rebuildTarKeys(before offset: Int) {
        tarKeys = []
        guard let reader = try? TarReader(path: shards[shard]) else { return }
        while let entry = reader.next() {
            guard case .member(let m) = entry else { continue }
            if m.entryOffset >= offset { break }
            tarKeys.insert(Self.lastComponent(WebDatasetKey.split(m.name).key))
        }
    }

    /// img2dataset's sidecar names a sample by its key alone, without a folder.
    private static func lastComponent(_ key: String) -> String {
        key.lastIndex(of: "/").map { String(key[key.index(after: $0)...]) } ?? key
    }

    private func shardName(_ i: Int) -> String {
        var name = (shards[i] as NSString).lastPathComponent
        if name.hasSuffix(".tar") { name.removeLast(4) }
        return name
    }

    private func sidecarPath(_ tar: String) -> String {
        (tar.hasSuffix(".tar") ? String(tar.dropLast(4)) : tar) + ".parquet"
    }
}

/// The members of one key read so far.
private struct MemberGroup {
    var key: String
    var image: TarMember?
    var caption: String?
    var json: ParsedJSON?
    var problems: [ManifestRecord] = []
}
