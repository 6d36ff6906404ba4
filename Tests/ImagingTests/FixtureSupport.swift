import Foundation
import XCTest

/// Index written by scripts/make_image_fixtures.py.
struct FixtureIndex: Decodable {
    struct Decode: Decodable {
        let file: String
        let mode: String
        let width: Int
        let height: Int
        let drop: String
        let composite: String?
    }
    struct Resize: Decodable {
        let source: String
        let sourceWidth: Int
        let sourceHeight: Int
        let filter: String
        let width: Int
        let height: Int
        let expected: String
    }
    struct Blip: Decodable {
        let input: String
        let encoded: Bool
        let size: Int
        let stride: Int
        let expected: String
        let sum: Double
    }
    struct Table: Decodable {
        let name: String
        let file: String
    }
    struct Failure: Decodable {
        let file: String
        let kind: String
    }
    struct Draft: Decodable {
        let file: String
        let minWidth: Int
        let minHeight: Int
        let width: Int
        let height: Int
        let expected: String
    }
    struct Orientation: Decodable {
        let file: String
        let orientation: Int
        let width: Int
        let height: Int
        let expected: String
    }
    struct Encode: Decodable {
        let source: String
        let quality: Int
        let file: String
    }
    struct Hash: Decodable {
        let source: String
        let flipped: Bool?
        let width: Int
        let height: Int
        let phash: String
        let dhash: String
    }
    let draft: [Draft]
    let orientation: [Orientation]
    let encode: [Encode]
    let hashes: [Hash]
    let decode: [Decode]
    let resize: [Resize]
    let blip: [Blip]
    let tables: [Table]
    let errors: [Failure]
}

enum Fixtures {
    static let directory: URL = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("Fixtures resource missing from the test bundle")
        }
        return url
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    static func floats(_ name: String) throws -> [Float] {
        let raw = try bytes(name)
        precondition(raw.count % 4 == 0)
        return (0..<(raw.count / 4)).map { i in
            let bits = UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8
                | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24
            return Float(bitPattern: bits)
        }
    }

    static let index: FixtureIndex = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("index.json"))
            return try JSONDecoder().decode(FixtureIndex.self, from: data)
        } catch {
            fatalError("cannot read fixture index: \(error)")
        }
    }()
}

/// Per-byte difference statistics between two equal-length buffers.
struct ByteDiff: CustomStringConvertible {
    var maxDiff = 0
    var sumDiff = 0
    var differing = 0
    var count = 0

    init(_ a: [UInt8], _ b: [UInt8]) {
        precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
        count = a.count
        for i in 0..<a.count {
            let d = abs(Int(a[i]) - Int(b[i]))
            if d > 0 {
                differing += 1
                sumDiff += d
                maxDiff = max(maxDiff, d)
            }
        }
    }

    var mean: Double { count == 0 ? 0 : Double(sumDiff) / Double(count) }
    var description: String { "max \(maxDiff), mean \(mean), \(differing)/\(count) bytes differ" }
}
