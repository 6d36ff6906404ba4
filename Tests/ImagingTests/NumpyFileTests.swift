import Foundation
import XCTest

@testable import Imaging

/// `capfilt preprocess` output: .npy files as numpy writes them, holding what transformers'
/// BlipImageProcessor produces.
final class NumpyFileTests: XCTestCase {
    /// Magic, version 1.0, header length, header dict and data offset of a .npy file.
    private func parse(_ file: [UInt8]) -> (header: String, dataOffset: Int)? {
        guard file.count >= 10, Array(file[0..<6]) == NumpyFile.magic, file[6] == 1, file[7] == 0 else { return nil }
        let length = Int(file[8]) | Int(file[9]) << 8
        guard file.count >= 10 + length else { return nil }
        return (String(decoding: file[10..<(10 + length)], as: UTF8.self), 10 + length)
    }

    func testBlipInputEqualsNumpySaveOfTransformersOutput() throws {
        // Fixture: np.save of BlipImageProcessorPil(size 32) pixel_values[0] for this PNG
        // (scripts/bench_imaging.py check --write-fixture).
        let expected = try Fixtures.bytes("preprocess_png_rgba_64x48_32.npy")
        let image = try ImageDecoder.decode(try Fixtures.bytes("png_rgba_64x48.png"))
        let file = NumpyFile.float32(BlipImageTransform(size: 32)(image), shape: [3, 32, 32])
        XCTAssertEqual(file.count, expected.count)
        XCTAssertEqual(Array(file.prefix(128)), Array(expected.prefix(128)), "header differs from numpy's")
        XCTAssertTrue(file == expected, "values differ from transformers' pixel_values")
    }

    func testHeaderLayout() throws {
        for shape in [[3, 384, 384], [3, 1, 1], [5], [], [2, 0]] {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { Float($0) - 0.5 }
            let file = NumpyFile.float32(values, shape: shape)
            let parsed = try XCTUnwrap(parse(file), "\(shape)")
            XCTAssertEqual(parsed.dataOffset % 64, 0, "\(shape)")
            XCTAssertTrue(parsed.header.hasSuffix("\n"))
            let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
            XCTAssertTrue(parsed.header.hasPrefix(
                "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"), parsed.header)
            XCTAssertEqual(file.count, parsed.dataOffset + 4 * count)
            for (i, v) in values.enumerated() where i < 64 || i >= count - 64 {
                let p = parsed.dataOffset + 4 * i
                let bits = UInt32(file[p]) | UInt32(file[p + 1]) << 8 | UInt32(file[p + 2]) << 16 | UInt32(file[p + 3]) << 24
                XCTAssertEqual(Float(bitPattern: bits), v)
            }
        }
    }

    func testTrainTransformFileIsSeeded() throws {
        let image = try ImageDecoder.decode(try Fixtures.bytes("jpeg_420_97x131.jpg"))
        func file(_ seed: UInt64) -> [UInt8] {
            var rng = SplitMix64(seed: seed)
            return NumpyFile.float32(BlipTrainTransform(size: 24, scale: (0.2, 1))(image, using: &rng), shape: [3, 24, 24])
        }
        XCTAssertEqual(file(9), file(9))
        XCTAssertNotEqual(file(9), file(10))
        XCTAssertEqual(file(9).count, 128 + 4 * 3 * 24 * 24)
    }
}
