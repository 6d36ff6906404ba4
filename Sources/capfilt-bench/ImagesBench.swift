import ArgumentParser
import Basics
import Dispatch
import Foundation
import Imaging

/// `capfilt-bench images`: times the image pipelines of `make bench` (scripts/bench_imaging.py)
/// on files read into memory first. Prints one JSON line.
struct ImagesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Time image decode + transform pipelines (scripts/bench_imaging.py).")

    enum Case: String, ExpressibleByArgument, CaseIterable {
        /// Decode only.
        case decode
        /// Decode + BLIP test transform at 384 (bicubic resize, normalise to float CHW).
        case blip384
        /// Decode + shortest side to 256 + centre crop + JPEG quality 95 (img2dataset center_crop).
        case export256
        /// export256 with JPEG DCT-domain scaling (Pillow's draft) when the source is at least
        /// twice the target: faster, and no longer the same pixels as a full decode.
        case export256Draft = "export256-draft"
    }

    @Option(name: .customLong("case")) var benchCase: Case
    @Option(help: "Worker threads; images are split between them.") var threads = 1
    @Option(name: .customLong("repeat"), help: "Timed passes over all images after one warm-up pass.")
    var repeats = 3
    @Option(help: "A file listing image paths, one per line.") var list: String?
    @Argument(help: "Image files or folders (their .jpg/.jpeg/.png/.webp files).") var inputs: [String] = []

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        let paths = try collectPaths()
        guard !paths.isEmpty else { throw ValidationError("no images given") }
        let blobs: [[UInt8]] = try paths.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(path)")
            }
            return [UInt8](data)
        }
        let pipeline = ImagePipeline(benchCase: benchCase)
        let workers = min(threads, blobs.count)

        // One pass: worker w takes images w, w + workers, ...; returns per-stage seconds summed
        // over images and workers, plus a checksum that keeps the work observable.
        func pass() throws -> (wall: Double, cpu: Double, stages: [Double], checksum: UInt64, failures: Int) {
            let results = Locked(Array(repeating: PassResult(), count: workers))
            let c0 = processCPUSeconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var r = PassResult()
                var scratch = [Float](repeating: 0, count: pipeline.floatCount)
                for i in stride(from: w, to: blobs.count, by: workers) {
                    pipeline.run(blobs[i], scratch: &scratch, into: &r)
                }
                results.withLock { $0[w] = r }
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let cpu = processCPUSeconds() - c0
            var stages = [0.0, 0.0, 0.0]
            var checksum: UInt64 = 0
            var failures = 0
            for r in results.current {
                for s in 0..<3 { stages[s] += r.stages[s] }
                checksum &+= r.checksum
                failures += r.failures
            }
            return (wall, cpu, stages, checksum, failures)
        }

        let warm = try pass()
        var runs: [(wall: Double, cpu: Double, stages: [Double], checksum: UInt64, failures: Int)] = []
        for _ in 0..<repeats { runs.append(try pass()) }
        let order = runs.indices.sorted { runs[$0].wall < runs[$1].wall }
        let median = runs[order[order.count / 2]]
        let cpuMedian = runs.map(\.cpu).sorted()[runs.count / 2]
        try printSortedJSON(ImagesBenchResult(
            case: benchCase.rawValue, images: blobs.count, threads: workers,
            seconds: runs.map(\.wall), median_seconds: median.wall,
            images_per_second: Double(blobs.count) / median.wall,
            cpu_seconds: runs.map(\.cpu), median_cpu_seconds: cpuMedian,
            images_per_cpu_second: Double(blobs.count) / cpuMedian,
            stage_seconds: ["decode": median.stages[0], "transform": median.stages[1], "encode": median.stages[2]],
            failures: warm.failures, checksum: String(median.checksum, radix: 16),
            peak_rss_bytes: peakResidentBytes()))
    }

    private func collectPaths() throws -> [String] {
        var paths: [String] = []
        if let list {
            guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
                throw ValidationError("cannot read \(list)")
            }
            paths += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        let extensions: Set<String> = ["jpg", "jpeg", "png", "webp"]
        for input in inputs {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []
                paths += names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted().map { (input as NSString).appendingPathComponent($0) }
            } else {
                paths.append(input)
            }
        }
        return paths
    }
}

private struct PassResult {
    var stages = [0.0, 0.0, 0.0]
    var checksum: UInt64 = 0
    var failures = 0
}

private struct ImagePipeline: Sendable {
    let benchCase: ImagesBench.Case
    let blip = BlipImageTransform(size: 384)
    let exporter = ExportResizer(imageSize: 256, mode: .centerCrop)

    var floatCount: Int { benchCase == .blip384 ? blip.outputCount : 0 }

    @inline(__always)
    private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func run(_ bytes: [UInt8], scratch: inout [Float], into r: inout PassResult) {
        let t0 = now()
        let image: RGBImage
        do {
            image = try ImageDecoder.decode(
                bytes, minimumSize: benchCase == .export256Draft ? (width: 256, height: 256) : nil)
        } catch {
            r.failures += 1
            return
        }
        let t1 = now()
        r.stages[0] += Double(t1 - t0) / 1e9
        switch benchCase {
        case .decode:
            r.checksum &+= UInt64(image.pixels[image.pixels.count / 2])
        case .blip384:
            blip.write(image, into: &scratch, at: 0)
            r.stages[1] += Double(now() - t1) / 1e9
            r.checksum &+= UInt64(scratch[scratch.count / 2].bitPattern)
        case .export256, .export256Draft:
            let small = exporter(image)
            let t2 = now()
            r.stages[1] += Double(t2 - t1) / 1e9
            guard let jpeg = try? ImageEncoder.jpeg(small, quality: 95) else {
                r.failures += 1
                return
            }
            r.stages[2] += Double(now() - t2) / 1e9
            r.checksum &+= UInt64(jpeg.count)
        }
    }
}

struct ImagesBenchResult: Encodable {
    let `case`: String
    let images: Int
    let threads: Int
    let seconds: [Double]
    let median_seconds: Double
    let images_per_second: Double
    let cpu_seconds: [Double]
    let median_cpu_seconds: Double
    let images_per_cpu_second: Double
    let stage_seconds: [String: Double]
    let failures: Int
    let checksum: String
    let peak_rss_bytes: Int
}
