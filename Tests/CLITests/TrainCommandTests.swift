import Foundation
import XCTest

/// `capfilt pretrain` / `finetune` end to end on a tiny model: the loss log, a run stopped with
/// --max-steps and resumed equal to an uninterrupted one, WebDataset shards as input.
final class TrainCommandTests: XCTestCase {
    /// A 1-layer, 32-wide BLIP on 32-pixel images: a step takes milliseconds.
    static let tinyModel = ["--vision-width", "32", "--vision-layers", "1", "--vision-heads", "2", "--image-size", "32",
                            "--patch-size", "16", "--text-width", "32", "--text-layers", "1", "--text-heads", "2",
                            "--embed-dim", "16", "--threads", "2", "--seed", "7"]

    /// Four pairs over the two MED fixture JPEGs, as a BLIP json list.
    func makeJSON(in dir: URL) throws -> URL {
        let images = ["jpeg0.jpg", "jpeg1.jpg"].map { CLI.medFixtures.appendingPathComponent($0).path }
        let captions = ["a dog runs on the beach", "two cats sleep on a red sofa",
                        "a man rides a bicycle in the city", "a bowl of fruit on a wooden table"]
        let list = captions.enumerated().map { i, c in ["image": images[i % 2], "caption": c] }
        let url = dir.appendingPathComponent("pairs.json")
        try JSONSerialization.data(withJSONObject: list).write(to: url)
        return url
    }

    func losses(_ log: URL) throws -> [[String: Any]] {
        CLI.jsonLines(try String(contentsOf: log, encoding: .utf8))
    }

    func pretrain(_ args: [String]) throws -> CLIResult {
        let r = try CLI.run(["pretrain"] + Self.tinyModel + ["--batch-size", "2", "--queue-size", "4", "--lr", "1e-3",
                                                             "--warmup-steps", "1", "--grad-clip", "1"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r
    }

    func testPretrainLogAndResume() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try makeJSON(in: dir).path
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")

        let r = try pretrain(["--data", data, "--output", straight.path, "--steps", "5"])
        let expected = try losses(straight.appendingPathComponent("losses.jsonl"))
        XCTAssertEqual(expected.map { $0["step"] as? Int }, [1, 2, 3, 4, 5])
        for line in expected {
            for key in ["loss", "itc", "itm", "lm", "lr", "samples_per_s", "grad_norm"] {
                XCTAssertNotNil(line[key] as? Double, "\(key) in \(line)")
            }
        }
        XCTAssertTrue(r.stderr.contains("step 5/5"), r.stderr)
        for folder in ["retrieval", "captioner"] {
            for file in ["config.json", "model.safetensors"] {
                let path = straight.appendingPathComponent("checkpoint-000005/\(folder)/\(file)").path
                XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
            }
        }

        // Stopped after step 2 (as if killed after its checkpoint), then resumed.
        _ = try pretrain(["--data", data, "--output", resumed.path, "--steps", "5", "--max-steps", "2"])
        XCTAssertEqual(try losses(resumed.appendingPathComponent("losses.jsonl")).count, 2)
        let again = try pretrain(["--data", data, "--output", resumed.path, "--steps", "5", "--resume"])
        XCTAssertTrue(again.stderr.contains("at step 2"), again.stderr)
        let after = try losses(resumed.appendingPathComponent("losses.jsonl"))
        XCTAssertEqual(after.map { $0["step"] as? Int }, [1, 2, 3, 4, 5])
        for (a, b) in zip(after, expected) {
            for key in ["itc", "itm", "lm", "lr"] {
                XCTAssertEqual(a[key] as? Double, b[key] as? Double, "step \(a["step"]!) \(key)")
            }
        }
    }

    func testWebDatasetShardsAndFinetuning() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // An export folder: <export>/webdataset/00000.tar with KEY.jpg + KEY.txt + KEY.json members.
        let shards = dir.appendingPathComponent("export/webdataset")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        var tar = TinyTar()
        let images = try ["jpeg0.jpg", "jpeg1.jpg"].map { try Data(contentsOf: CLI.medFixtures.appendingPathComponent($0)) }
        for i in 0..<4 {
            // One key longer than the 100-byte ustar name field: written through a pax header.
            let key = i == 3 ? "coco%2F" + String(repeating: "x", count: 120) : "coco%2F\(i)"
            tar.add(key + ".jpg", images[i % 2])
            tar.add(key + ".txt", Data("caption number \(i) of a small photo".utf8))
            tar.add(key + ".json", Data("{\"sha256\":\"\(i % 2)\"}".utf8))
        }
        try tar.finish().write(to: shards.appendingPathComponent("00000.tar"))
        let export = dir.appendingPathComponent("export").path

        let pre = try pretrain(["--data", export, "--output", dir.appendingPathComponent("pre").path, "--steps", "2"])
        XCTAssertTrue(pre.stderr.contains("4 pairs"), pre.stderr)
        XCTAssertEqual(try losses(dir.appendingPathComponent("pre/losses.jsonl")).count, 2)

        // The pre-trained checkpoint's folders start both fine-tunings.
        let checkpoint = dir.appendingPathComponent("pre/checkpoint-000002")
        for (task, folder, terms) in [("caption", "captioner", ["lm"]), ("retrieval", "retrieval", ["itc", "itm"])] {
            let out = dir.appendingPathComponent(task)
            let r = try CLI.run(["finetune", "--task", task, "--init", checkpoint.appendingPathComponent(folder).path,
                                 "--data", export, "--output", out.path, "--steps", "2", "--batch-size", "2",
                                 "--queue-size", "4", "--threads", "2", "--lr", "1e-4"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let log = try losses(out.appendingPathComponent("losses.jsonl"))
            XCTAssertEqual(log.count, 2)
            for t in terms { XCTAssertNotNil(log.last?[t] as? Double, "\(task): \(t)") }
            XCTAssertTrue(FileManager.default.fileExists(
                atPath: out.appendingPathComponent("checkpoint-000002/\(folder)/model.safetensors").path), task)
        }
    }
}

/// A minimal ustar writer for the test's shard (pax `path` records for long names).
struct TinyTar {
    var bytes = Data()

    mutating func add(_ name: String, _ data: Data) {
        if name.utf8.count > 100 {
            let body = " path=\(name)\n"
            var length = body.utf8.count + 1
            while "\(length)\(body)".utf8.count != length { length += 1 }
            let record = Data("\(length)\(body)".utf8)
            bytes += header("PaxHeaders/x", size: record.count, type: "x")
            bytes += padded(record)
        }
        bytes += header(String(name.prefix(100)), size: data.count, type: "0")
        bytes += padded(data)
    }

    mutating func finish() -> Data { bytes + Data(count: 1024) }

    private func padded(_ d: Data) -> Data { d + Data(count: (512 - d.count % 512) % 512) }

    private func header(_ name: String, size: Int, type: Character) -> Data {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        put(name, 0)
        put("0000644", 100); put("0000000", 108); put("0000000", 116)
        put(String(format: "%011o", size), 124); put(String(format: "%011o", 0), 136)
        b[156] = type.asciiValue!
        put("ustar", 257); put("00", 263)
        for i in 148..<156 { b[i] = 32 }
        put(String(format: "%06o", b.reduce(0) { $0 + Int($1) }), 148)
        b[154] = 0
        return Data(b)
    }
}
