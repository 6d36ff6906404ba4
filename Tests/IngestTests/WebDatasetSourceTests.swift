import Basics
import DemoData
import Export
import Foundation
import Imaging
import XCTest
@testable import Ingest

/// WebDataset / img2dataset shards as a source: members grouped by key, the Parquet sidecar's
/// failed rows, damaged tars costing only their broken members, exact resumption, shard
/// patterns, and the fetcher answering shard members and recorded failures without the network.
final class WebDatasetSourceTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "capfilt-wds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func read(_ path: String, shards: String? = nil) throws -> [ManifestRecord] {
        var reader = try openManifest(path: path, format: .webdataset, options: ManifestOptions(source: "laion", shards: shards))
        var out: [ManifestRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    func testImg2DatasetShardsGiveEverySampleFailedOnesIncluded() throws {
        let summary = try Img2DatasetShards.write(to: folder, options: .init(shards: 3, samplesPerShard: 40, failureEvery: 5))
        XCTAssertGreaterThan(summary.failed, 0)
        XCTAssertEqual(try ManifestFormat.detect(path: folder), .webdataset)
        XCTAssertEqual(try ManifestFormat.detect(path: folder + "/00001.tar"), .webdataset)
        XCTAssertEqual(ManifestFormat(name: "img2dataset"), .webdataset)

        let records = try read(folder, shards: "{00000..00001}.tar")
        XCTAssertTrue(records.allSatisfy { $0.problem == nil }, "\(records.compactMap(\.problem))")
        let samples = records.compactMap(\.sample)
        XCTAssertEqual(samples.count, 80)
        XCTAssertEqual(Set(samples.map(\.key)).count, 80)
        XCTAssertEqual(samples.first?.key, "00000/000000000")

        let stored = samples.filter { $0.member != nil }
        let failed = samples.filter { $0.sourceFailure != nil }
        XCTAssertEqual(stored.count + failed.count, 80)
        XCTAssertFalse(failed.isEmpty)
        for s in stored {
            // The member's bytes are the JPEG whose digest img2dataset wrote into KEY.json.
            let bytes = try XCTUnwrap(TarReader(path: s.localPath!).readData(at: s.member!.offset, count: s.member!.size))
            XCTAssertEqual(SHA256.hex(bytes), s.metadata["sha256"])
            XCTAssertEqual(SniffedFormat.sniff(bytes), .jpeg)
            XCTAssertTrue(s.url?.hasPrefix("https://images.example.com/") ?? false)
            XCTAssertEqual(s.captions.count, 1)
            XCTAssertEqual(s.metadata["width"], "64")
            XCTAssertNotNil(s.metadata["similarity"])
            XCTAssertNil(s.sourceFailure)
        }
        for s in failed {
            XCTAssertTrue(s.sourceFailure!.hasPrefix("failed_to_download: "), s.sourceFailure!)
            XCTAssertNil(s.localPath)
            XCTAssertNotNil(s.url)
            XCTAssertEqual(s.metadata["status"], "failed_to_download")
        }
        // Every input row of the sidecars is a sample: successes from the tar, failures from the sidecar.
        XCTAssertEqual(try read(folder).compactMap(\.sample).count, 120)
    }

    /// The sample shards in manifests/samples/webdataset (two shards of five, made by
    /// `capfilt-bench shards --image-side 16 --failure-every 3`).
    func testSampleShards() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("manifests/samples/webdataset").path
        let records = try read(path)
        XCTAssertEqual(records.compactMap(\.problem), [])
        let samples = records.compactMap(\.sample)
        XCTAssertEqual(samples.count, 10)
        XCTAssertEqual(samples.filter { $0.sourceFailure != nil }.count, 3)
        XCTAssertEqual(samples.filter { $0.member != nil }.count, 7)
    }

    /// A tar written with Export's writer, then damaged by the caller.
    func makeTar(_ members: [(String, [UInt8])]) throws -> [UInt8] {
        let path = folder + "/build-\(UUID().uuidString).tar"
        let writer = try TarWriter(path: path, durable: false)
        for (name, bytes) in members { try writer.addFile(name: name, bytes: bytes) }
        try writer.finish()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let jpeg: [UInt8] = try! ImageEncoder.jpeg(RGBImage(width: 8, height: 8, fill: (200, 10, 10)))

    func sample(_ key: String, image: Bool = true, text: Bool = true, json: Bool = true) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        if image { out.append((key + ".jpg", Self.jpeg)) }
        if json { out.append((key + ".json", Array("{\"url\": \"https://example.com/\(key).jpg\", \"key\": \"\(key)\", \"width\": 8}".utf8))) }
        if text { out.append((key + ".txt", Array("caption of \(key)".utf8))) }
        return out
    }

    /// Offset of a member's header in `tar` (Export writes no pax headers for short names).
    func headerOffset(of name: String, in tar: [UInt8]) -> Int {
        var offset = 0
        while offset + 512 <= tar.count {
            let stored = String(decoding: tar[offset..<(offset + 100)].prefix { $0 != 0 }, as: UTF8.self)
            if stored == name { return offset }
            let size = Int(String(decoding: tar[(offset + 124)..<(offset + 135)], as: UTF8.self), radix: 8) ?? 0
            offset += 512 + (size + 511) / 512 * 512
        }
        XCTFail("no member \(name)")
        return 0
    }

    /// Shard a: good, no caption, no image, a bad header on k4.jpg, good; shard b cut inside a
    /// member; shard c: a bad sidecar-less JSON. Only what is broken is lost, each with a reason.
    func writeDamagedShards() throws -> [String] {
        var a = try makeTar(sample("k0") + sample("k1", text: false) + sample("k2", image: false) + sample("k3") + sample("k4") + sample("k5"))
        a[headerOffset(of: "k4.jpg", in: a) + 2] ^= 0x20
        let b = try makeTar(sample("m0") + sample("m1") + sample("m2"))
        let cut = headerOffset(of: "m1.jpg", in: b) + 512 + 100
        let c = try makeTar(sample("n0") + [("n1.jpg", Self.jpeg), ("n1.json", Array("{\"url\": ".utf8))])
        try Data(a).write(to: URL(fileURLWithPath: folder + "/a.tar"))
        try Data(b[0..<cut]).write(to: URL(fileURLWithPath: folder + "/b.tar"))
        try Data(c).write(to: URL(fileURLWithPath: folder + "/c.tar"))
        return ["a.tar", "b.tar", "c.tar"]
    }

    func testDamagedShardsCostOnlyTheirBrokenMembers() throws {
        _ = try writeDamagedShards()
        let records = try read(folder)
        let samples = records.compactMap(\.sample)
        XCTAssertEqual(samples.map(\.key), ["a/k0", "a/k1", "a/k3", "a/k5", "b/m0", "c/n0", "c/n1"])
        XCTAssertEqual(samples[1].captions, [])                        // no .txt: kept, without a caption
        XCTAssertEqual(samples[0].captions, ["caption of k0"])
        XCTAssertEqual(samples[0].url, "https://example.com/k0.jpg")
        XCTAssertEqual(samples[0].metadata, ["key": "k0", "width": "8"])
        XCTAssertNil(samples[6].url)                                    // its json is broken
        let problems = records.compactMap(\.problem)
        let described = problems.map { "\(($0.file as NSString).lastPathComponent) \($0.excerpt ?? "-"): \($0.reason)" }
        XCTAssertEqual(problems.count, 5, "\(described)")
        XCTAssertTrue(described[0].hasPrefix("a.tar k2: no image member"), described[0])
        XCTAssertTrue(described[1].hasPrefix("a.tar - at byte"), described[1])
        XCTAssertEqual(problems[1].reason, "bad tar header checksum")
        XCTAssertTrue(described[2].hasPrefix("a.tar k4: no image member"), described[2])   // its json and txt survived
        XCTAssertTrue(described[3].hasPrefix("b.tar m1.jpg at byte"), described[3])
        XCTAssertEqual(problems[3].reason, "truncated tar member")
        XCTAssertTrue(described[4].hasPrefix("c.tar n1.json: bad JSON"), described[4])
        // Nothing of the good members is touched: their bytes are still the image.
        let k5 = samples[3]
        XCTAssertEqual(try TarReader(path: k5.localPath!).readData(at: k5.member!.offset, count: k5.member!.size), Self.jpeg)
    }

    func testResumingAtAnyRecordGivesExactlyTheRest() throws {
        _ = try writeDamagedShards()
        _ = try Img2DatasetShards.write(to: folder, options: .init(shards: 2, samplesPerShard: 15, failureEvery: 3))
        // Shard 00000 cut in the middle: its sidecar's success rows after the cut come back as
        // `missing_from_shard`, also when the reader resumes after the cut.
        let cut = folder + "/00000.tar"
        let size = try FileManager.default.attributesOfItem(atPath: cut)[.size] as! Int
        XCTAssertEqual(truncate(cut, off_t(size / 2)), 0)
        let options = ManifestOptions(source: "s")
        var full = try openManifest(path: folder, format: .webdataset, options: options)
        var all: [ManifestRecord] = []
        while let r = try full.next() { all.append(r) }
        XCTAssertEqual(all.compactMap(\.sample).filter { $0.key.hasPrefix("0000") }.count, 30)
        XCTAssertGreaterThan(all.compactMap(\.sample).filter { $0.sourceFailure?.hasPrefix("missing_from_shard") ?? false }.count, 2)
        for k in 0...all.count {
            var first = try XCTUnwrap(try openManifest(path: folder, format: .webdataset, options: options) as? any ResumableManifestReader)
            for _ in 0..<k { _ = try first.next() }
            var second = try XCTUnwrap(try openManifest(path: folder, format: .webdataset, options: options) as? any ResumableManifestReader)
            try second.resume(at: first.position)
            var rest: [ManifestRecord] = []
            while let r = try second.next() { rest.append(r) }
            XCTAssertEqual(rest, Array(all[k...]), "resumed after \(k) records at \(first.position)")
        }
        // A position from another shard list is refused rather than misread.
        var reader = try XCTUnwrap(try openManifest(path: folder, format: .webdataset, options: options) as? any ResumableManifestReader)
        XCTAssertThrowsError(try reader.resume(at: "tar 0 0 0 other"))
    }

    func testShardPatterns() throws {
        XCTAssertEqual(try ShardPattern.braces("s/{00000..00003}.tar"), ["s/00000.tar", "s/00001.tar", "s/00002.tar", "s/00003.tar"])
        XCTAssertEqual(try ShardPattern.braces("{8..11}"), ["8", "9", "10", "11"])
        XCTAssertEqual(try ShardPattern.braces("{08..11}"), ["08", "09", "10", "11"])
        XCTAssertEqual(try ShardPattern.braces("{2..0}"), ["2", "1", "0"])
        XCTAssertEqual(try ShardPattern.braces("{a,b}-{1..2}.tar"), ["a-1.tar", "a-2.tar", "b-1.tar", "b-2.tar"])
        XCTAssertEqual(try ShardPattern.braces("{x,{1..2}}"), ["x", "1", "2"])
        XCTAssertEqual(try ShardPattern.braces("plain.tar"), ["plain.tar"])
        XCTAssertThrowsError(try ShardPattern.braces("{0..3.tar"))
        XCTAssertThrowsError(try ShardPattern.braces("{a..b}"))
        XCTAssertThrowsError(try ShardPattern.braces("{0..99999999}"))
        for name in ["00001.tar", "00000.tar", "00000.parquet", "x.tar"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data()))
        }
        XCTAssertEqual(try ShardPattern.expand("0000?.tar", in: folder), [folder + "/00000.tar", folder + "/00001.tar"])
        XCTAssertEqual(try ShardPattern.expand("*.tar", in: folder).count, 3)
        XCTAssertEqual(try ShardPattern.expand("/abs/{1,2}.tar", in: folder), ["/abs/1.tar", "/abs/2.tar"])
        XCTAssertEqual(WebDatasetKey.split("dir.x/a.b.c").key, "dir.x/a")
        XCTAssertEqual(WebDatasetKey.split("dir.x/a.b.c").ext, "b.c")
    }

    func testSourceFailureStatuses() {
        let cases: [(String, FetchStatus)] = [
            ("failed_to_download: HTTP Error 404: Not Found", .http404),
            ("failed_to_download: HTTP Error 503: Service Unavailable", .http5xx),
            ("failed_to_download: The read operation timed out", .timeout),
            ("failed_to_download: <urlopen error [Errno -2] Name or service not known>", .dns),
            ("failed_to_download: <urlopen error [Errno 111] Connection refused>", .connect),
            ("failed_to_download: <urlopen error [SSL: CERTIFICATE_VERIFY_FAILED]>", .tls),
            ("failed_to_download: cannot identify image file <_io.BytesIO object at 0x7f>", .notImage),
            ("failed_to_resize: image too small", .notImage),
            ("missing_from_shard: downloaded, but not in the tar", .ioError),
            ("failed_to_download: something new", .transferError),
        ]
        for (text, status) in cases { XCTAssertEqual(SourceFailure.status(for: text), status, text) }
    }

    func testFetcherAnswersMembersAndRecordedFailuresWithoutTheNetwork() throws {
        let tar = try makeTar([("a.jpg", Self.jpeg), ("b.jpg", Array("not an image".utf8))])
        let path = folder + "/s.tar"
        try Data(tar).write(to: URL(fileURLWithPath: path))
        let reader = try TarReader(path: path)
        let a = try XCTUnwrap(try reader.nextMember()), b = try XCTUnwrap(try reader.nextMember())
        let store = try BlobStore(root: folder + "/blobs", durable: false)
        var options = FetchOptions()
        options.addresses = AddressPolicy()   // public addresses only: nothing below may connect anyway
        let requests: [FetchRequest] = [
            .archived(key: "a", path: path, member: ArchiveMember(offset: a.offset, size: a.size), url: "https://example.com/a.jpg"),
            .archived(key: "b", path: path, member: ArchiveMember(offset: b.offset, size: b.size), url: nil),
            .archived(key: "gone", path: path, member: ArchiveMember(offset: tar.count - 10, size: 100), url: nil),
            .failedAtSource(key: "f", url: "https://example.com/f.jpg", failure: "failed_to_download: HTTP Error 404: Not Found"),
            .forSample(key: "hash", url: nil, localPath: path, member: ArchiveMember(offset: a.offset, size: a.size),
                       sourceFailure: nil, expectedSHA256: String(repeating: "0", count: 64)),
        ]
        let results = Locked<[String: FetchResult]>([:])
        let summary = Fetcher(options: options, store: store).run(requests) { r in results.withLock { $0[r.key] = r } }
        let r = results.withLock { $0 }
        XCTAssertEqual(summary.results, 5)
        XCTAssertEqual(r["a"]?.status, .local)
        XCTAssertEqual(r["a"]?.url, "https://example.com/a.jpg")
        XCTAssertEqual(r["a"]?.sha256, SHA256.hex(Self.jpeg))
        XCTAssertEqual(try store.read(SHA256.hex(Self.jpeg)), Self.jpeg)
        XCTAssertEqual(r["a"]?.blob, store.path(for: SHA256.hex(Self.jpeg)))
        XCTAssertEqual(r["b"]?.status, .notImage)
        XCTAssertEqual(r["gone"]?.status, .ioError)
        XCTAssertEqual(r["f"]?.status, .http404)
        XCTAssertEqual(r["f"]?.attempts, 0)
        XCTAssertEqual(r["f"]?.error, "failed_to_download: HTTP Error 404: Not Found")
        XCTAssertEqual(r["hash"]?.status, .hashMismatch)
        XCTAssertTrue(FetchStatus.local.isSuccess)
    }
}
