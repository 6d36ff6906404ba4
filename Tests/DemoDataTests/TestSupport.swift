import Foundation
@testable import DemoData

/// A small benchmark for tests: every split present, a few seconds to write.
let smallOptions = DemoDataOptions(
    seed: 7, imageSize: 32, humanImages: 6, humanValidationImages: 3, webImages: 40, testImages: 12, labelledImages: 30, auditRows: 20,
    captionsPerImage: 5, webPort: 8377, plantedTestCopies: 0)

func temporaryFolder(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "capfilt-demodata-\(name)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Every regular file under a folder, relative paths sorted.
func filesUnder(_ root: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [String] = []
    while let relative = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
            out.append(relative)
        }
    }
    return out.sorted()
}

func readBytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

func readJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// FNV-1a, 64 bits: a digest that needs no library.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: [UInt8]) {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x100_0000_01b3
        }
    }
    mutating func add(_ text: String) { add(Array(text.utf8)) }
}

/// Writes the benchmark of `options` to a fresh temporary folder, runs `body` on it, and removes
/// the folder.
func withWrittenDataset<T>(_ name: String, options: DemoDataOptions = smallOptions,
                           _ body: (DemoDataset, DemoDataLayout) throws -> T) throws -> T {
    let folder = temporaryFolder(name)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let dataset = DemoDataset(options: options)
    return try body(dataset, try DemoDataWriter.write(dataset, to: folder))
}
