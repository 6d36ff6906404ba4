import Basics
import Export
import Foundation
import Imaging

/// Writes WebDataset shards in the layout img2dataset's `--output_format webdataset` writes, for
/// benchmarks and tests that must not need the network:
///
/// - `00000.tar`: per sample `KEY.jpg`, `KEY.json`, `KEY.txt` (webdataset's TarWriter writes a
///   sample's members in sorted extension order), keys `SSSSSIIII` (shard, then index);
/// - `00000.parquet`: one row per input sample, failed ones included (`status`
///   `failed_to_download`, `error_message` as urllib words it), in row groups of 100 as
///   img2dataset's buffered writer flushes them; columns are the input's (LAION's `similarity`,
///   `punsafe`, `pwatermark`, then `caption`, `url`), then `key`, `status`, `error_message`,
///   `width`, `height`, `original_width`, `original_height`, `exif`, `sha256`;
/// - `00000_stats.json`: counts and the status histogram.
///
/// Images are small distinct JPEGs (a gradient and a block of colour, drawn per sample from the
/// seed); every `failureEvery`-th sample on average failed to download and has no members.
public enum Img2DatasetShards {
    public struct Options: Sendable {
        public var shards: Int
        public var samplesPerShard: Int
        /// One sample in this many failed to download (0: none).
        public var failureEvery: Int
        public var imageSide: Int
        public var seed: UInt64
        public init(shards: Int, samplesPerShard: Int, failureEvery: Int = 10, imageSide: Int = 64, seed: UInt64 = 7) {
            self.shards = shards; self.samplesPerShard = samplesPerShard; self.failureEvery = failureEvery
            self.imageSide = imageSide; self.seed = seed
        }
    }

    public struct Summary: Sendable, Equatable {
        public var samples = 0
        public var failed = 0
        public var bytes = 0
    }

    /// The urllib / Pillow messages failed rows carry, one picked per failure.
    static let errors = [
        "HTTP Error 404: Not Found", "HTTP Error 403: Forbidden", "The read operation timed out",
        "<urlopen error [Errno -2] Name or service not known>", "<urlopen error [Errno 111] Connection refused>",
        "cannot identify image file <_io.BytesIO object at 0x7f3a2c1b5e50>",
    ]
    static let words = ["a", "red", "small", "dog", "on", "the", "beach", "blue", "house", "with", "tree", "car",
                        "photo", "of", "two", "people", "walking", "near", "river", "sunset", "cat", "table"]

    public static func write(to folder: String, options: Options) throws -> Summary {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var summary = Summary()
        for shard in 0..<options.shards {
            summary = try writeShard(shard, to: folder, options: options, summary: summary)
        }
        return summary
    }

    private static func writeShard(_ shard: Int, to folder: String, options: Options, summary: Summary) throws -> Summary {
        var summary = summary
        let name = String(format: "%05d", shard)
        let tar = try TarWriter(path: folder + "/" + name + ".tar", durable: false)
        // img2dataset flushes its sidecar every 100 rows: row groups of 100.
        let columns: [(String, ParquetKind)] = [
            ("similarity", .double), ("punsafe", .double), ("pwatermark", .double), ("caption", .string), ("url", .string),
            ("key", .string), ("status", .string), ("error_message", .string), ("width", .int64), ("height", .int64),
            ("original_width", .int64), ("original_height", .int64), ("exif", .string), ("sha256", .string),
        ]
        let parquet = try ParquetWriter(
            path: folder + "/" + name + ".parquet", schema: columns.map { .column($0.0, $0.1, nullable: true) },
            options: ParquetWriterOptions(codec: .snappy, rowGroupRows: 100, durable: false))
        var successes = 0, failures = 0
        for i in 0..<options.samplesPerShard {
            var random = DemoRandom(seed: options.seed, stream: UInt64(shard), index: UInt64(i))
            let key = name + String(format: "%04d", i)
            let url = "https://images.example.com/\(shard)/\(i)-\(random.below(1_000_000)).jpg"
            let caption = (0..<random.int(in: 4...10)).map { _ in random.pick(words) }.joined(separator: " ")
            let similarity = Double(random.int(in: 280...420)) / 1000
            let punsafe = Double(random.below(1000)) / 10000
            let pwatermark = Double(random.below(1000)) / 1000
            let failed = options.failureEvery > 0 && random.below(options.failureEvery) == 0
            let originalWidth = Int64(random.int(in: 200...1600)), originalHeight = Int64(random.int(in: 200...1600))
            var row: [ParquetCell] = [.double(similarity), .double(punsafe), .double(pwatermark), .string(caption), .string(url),
                                              .string(key)]
            if failed {
                row += [.string("failed_to_download"), .string(random.pick(errors)), .null, .null, .null, .null, .null, .null]
                failures += 1
            } else {
                let side = options.imageSide
                let jpeg = try ImageEncoder.jpeg(picture(side: side, random: &random), quality: 85)
                let sha = SHA256.hex(jpeg)
                row += [.string("success"), .null, .int64(Int64(side)), .int64(Int64(side)), .int64(originalWidth),
                        .int64(originalHeight), .string("{}"), .string(sha)]
                let json: JSONValue = .orderedObject([
                    ("similarity", .double(similarity)), ("punsafe", .double(punsafe)), ("pwatermark", .double(pwatermark)),
                    ("caption", .string(caption)), ("url", .string(url)), ("key", .string(key)), ("status", .string("success")),
                    ("error_message", .null), ("width", .int(side)), ("height", .int(side)),
                    ("original_width", .int(Int(originalWidth))), ("original_height", .int(Int(originalHeight))),
                    ("exif", .string("{}")), ("sha256", .string(sha)),
                ])
                try tar.addFile(name: key + ".jpg", bytes: jpeg)
                try tar.addFile(name: key + ".json", bytes: DeterministicJSON(indent: 4).encodeBytes(json))
                try tar.addFile(name: key + ".txt", bytes: Array(caption.utf8))
                successes += 1
            }
            try parquet.append(row)
        }
        try tar.finish()
        let sidecarBytes = try parquet.finish().bytes
        let stats: JSONValue = .orderedObject([
            ("count", .int(options.samplesPerShard)), ("successes", .int(successes)), ("failed_to_download", .int(failures)),
            ("failed_to_resize", .int(0)), ("start_time", .double(0)), ("end_time", .double(0)), ("duration", .double(0)),
            ("status_dict", .orderedObject([("success", .int(successes))] + (failures > 0 ? [("failed_to_download", .int(failures))] : []))),
        ])
        try Data(DeterministicJSON(indent: 4).encodeBytes(stats)).write(to: URL(fileURLWithPath: folder + "/" + name + "_stats.json"))
        summary.samples += options.samplesPerShard
        summary.failed += failures
        summary.bytes += tar.bytesWritten + sidecarBytes
        return summary
    }

    /// A gradient between two colours with a block of a third: distinct per sample.
    static func picture(side: Int, random: inout DemoRandom) -> RGBImage {
        let a = (0..<3).map { _ in random.below(256) }, b = (0..<3).map { _ in random.below(256) }
        let c = (0..<3).map { _ in UInt8(random.below(256)) }
        let x0 = random.below(side / 2), y0 = random.below(side / 2), w = side / 4 + random.below(side / 4)
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let o = (y * side + x) * 3
                if x >= x0 && x < x0 + w && y >= y0 && y < y0 + w {
                    pixels[o] = c[0]; pixels[o + 1] = c[1]; pixels[o + 2] = c[2]
                } else {
                    for k in 0..<3 { pixels[o + k] = UInt8((a[k] * (side - x) + b[k] * x) / side) }
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }
}
