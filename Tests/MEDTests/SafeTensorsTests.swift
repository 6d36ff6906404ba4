import Foundation
import XCTest

@testable import MED

final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Helpers

    private func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(
            Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures/checkpoint"),
            "missing fixture \(name).safetensors")
    }

    /// A file made of an 8-byte little-endian length, `header` and `data`.
    private func rawFile(header: String, data: [UInt8], name: String = "model.safetensors") throws -> URL {
        let headerBytes = Array(header.utf8)
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(headerBytes.count) >> (8 * UInt64($0))) }
        bytes += headerBytes + data
        return try bytesFile(bytes, name: name)
    }

    private func bytesFile(_ bytes: [UInt8], name: String = "model.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func openError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try SafeTensorsFile(url: url)
            XCTFail("\(url.lastPathComponent) opened without error", file: file, line: line)
            return ""
        } catch let error as CheckpointError {
            XCTAssertFalse(error.description.contains("\n"), "not one line: \(error)", file: file, line: line)
            return error.description
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return ""
        }
    }

    private func assertOpenFails(
        _ url: URL, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        let message = openError(url, file: file, line: line)
        for part in [url.lastPathComponent] + parts {
            XCTAssertTrue(message.contains(part), "\"\(message)\" does not mention \(part)", file: file, line: line)
        }
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: - Writer and round trip

    func testRoundTripSeveralShapes() throws {
        let shapes: [[Int]] = [[], [1], [7], [2, 3], [2, 3, 4], [1, 1, 1, 5], [0, 4], [3, 0], [16, 17]]
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for (i, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { Float(i) * 1000 + Float($0) * 0.5 - 7 }
            tensors.append((name: "layer.\(shapes.count - i).weight", shape: shape, values: values))
        }
        tensors.append((name: "specials", shape: [6], values: [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]))
        let url = directory.appendingPathComponent("round.safetensors")
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt", "step": "12"], to: url)

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.url, url)
        XCTAssertEqual(file.names, tensors.map(\.name).sorted())
        XCTAssertEqual(file.metadata, ["format": "pt", "step": "12"])
        for tensor in tensors {
            XCTAssertEqual(file.shape(of: tensor.name), tensor.shape, tensor.name)
            XCTAssertEqual(file.dtype(of: tensor.name), .f32)
            XCTAssertEqual(file.storedDType(of: tensor.name), "F32")
            XCTAssertEqual(file.elementCount(of: tensor.name), tensor.values.count)
            XCTAssertEqual(bits(try file.floats(tensor.name)), bits(tensor.values), tensor.name)
        }
        XCTAssertNil(file.shape(of: "absent"))
        XCTAssertNil(file.dtype(of: "absent"))
    }

    func testRoundTripWithoutMetadataAndWithoutTensors() throws {
        let url = directory.appendingPathComponent("empty.safetensors")
        try SafeTensorsWriter.write([], metadata: nil, to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(bytes, [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.names, [])
        XCTAssertEqual(file.metadata, [:])

        try SafeTensorsWriter.write([(name: "x", shape: [2], values: [1, 2])], metadata: nil, to: url)
        let reread = try SafeTensorsFile(url: url)
        XCTAssertEqual(reread.metadata, [:])
        XCTAssertEqual(try reread.floats("x"), [1, 2])
    }

    /// The same tensors as scripts/make_checkpoint_fixtures.py WRITER_TENSORS, whose file the
    /// Python safetensors package wrote: the Swift writer must produce identical bytes.
    func testWriterMatchesPythonSafetensorsByteForByte() throws {
        let specs: [(String, [Int])] = [
            ("vision_model.embeddings.class_embedding", [1, 1, 4]),
            ("text_decoder.cls.predictions.bias", [5]),
            ("b.weight", [2, 3]),
            ("scalar", []),
            ("empty", [0, 4]),
            ("quote\"back\\slash/tab\tnewline\n\u{e9}", [2]),
        ]
        let tensors = specs.enumerated().map { i, spec in
            let count = spec.1.reduce(1, *)
            return (name: spec.0, shape: spec.1, values: (0..<count).map { Float(i * 100 + $0) * 0.25 - 3 })
        }
        let url = directory.appendingPathComponent("writer.safetensors")
        try SafeTensorsWriter.write(tensors, to: url)
        let written = try Data(contentsOf: url)
        let reference = try Data(contentsOf: try fixture("writer_reference"))
        XCTAssertEqual(written.count, reference.count)
        XCTAssertEqual([UInt8](written), [UInt8](reference))

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.names, tensors.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        XCTAssertEqual(try file.floats("b.weight"), [47, 47.25, 47.5, 47.75, 48, 48.25])
        XCTAssertEqual(try file.floats("scalar"), [72])
        XCTAssertEqual(try file.floats("empty"), [])
    }

    func testHeaderIsPaddedWithSpacesToEightBytes() throws {
        for length in 1...17 {
            let name = String(repeating: "n", count: length)
            let url = directory.appendingPathComponent("pad\(length).safetensors")
            try SafeTensorsWriter.write([(name: name, shape: [3], values: [1, 2, 3])], to: url)
            let bytes = [UInt8](try Data(contentsOf: url))
            let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            XCTAssertEqual((8 + n) % 8, 0)
            XCTAssertEqual(bytes.count, 8 + n + 12)
            let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
            let json = "{\"__metadata__\":{\"format\":\"pt\"},\"\(name)\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}"
            XCTAssertEqual(header, json + String(repeating: " ", count: n - json.utf8.count))
            XCTAssertLessThan(n - json.utf8.count, 8)
        }
    }

    func testWriteReplacesExistingFileAndLeavesNoTemporaryFiles() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write([(name: "a", shape: [1], values: [1])], to: url)
        try SafeTensorsWriter.write([(name: "b", shape: [2], values: [2, 3])], to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.names, ["b"])

        // A failed write leaves the previous file and no debris behind.
        XCTAssertThrowsError(try SafeTensorsWriter.write([(name: "c", shape: [2], values: [1])], to: url))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(url: url).names, ["b"])
    }

    func testWriterRejectsInconsistentInput() throws {
        let url = directory.appendingPathComponent("bad.safetensors")
        let cases: [([(name: String, shape: [Int], values: [Float])], [String])] = [
            ([(name: "w", shape: [2, 3], values: [1, 2])], ["'w'", "6 elements", "2 values"]),
            ([(name: "w", shape: [2, -1], values: [])], ["'w'", "shape[1]", "-1"]),
            ([(name: "w", shape: [1], values: [1]), (name: "w", shape: [1], values: [2])], ["'w'", "more than once"]),
            ([(name: "__metadata__", shape: [1], values: [1])], ["'__metadata__'", "reserved"]),
        ]
        for (tensors, parts) in cases {
            XCTAssertThrowsError(try SafeTensorsWriter.write(tensors, to: url)) { error in
                let message = "\(error)"
                for part in ["bad.safetensors"] + parts {
                    XCTAssertTrue(message.contains(part), "\"\(message)\" does not mention \(part)")
                }
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    // MARK: - Conversions

    func testFixtureConversionsAreExact() throws {
        let file = try SafeTensorsFile(url: try fixture("floats"))
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(file.dtype(of: "f16"), .f16)
        XCTAssertEqual(file.dtype(of: "bf16"), .bf16)
        XCTAssertEqual(file.dtype(of: "f32"), .f32)
        XCTAssertEqual(file.shape(of: "bf16"), [4, 6])
        XCTAssertEqual(file.shape(of: "f32"), [3, 5])
        for name in ["f16", "bf16", "f32"] {
            let got = try file.floats(name)
            let expected = try file.floats(name + ".expected")
            XCTAssertEqual(got.count, expected.count, name)
            XCTAssertEqual(file.shape(of: name), file.shape(of: name + ".expected"))
            for (i, (g, e)) in zip(got, expected).enumerated() {
                XCTAssertEqual(g.bitPattern, e.bitPattern, "\(name)[\(i)]: \(g) vs \(e)")
            }
        }
        // Spot checks that do not depend on the fixture's expected values.
        let f16 = try file.floats("f16")
        XCTAssertEqual(f16[0].bitPattern, 0)
        XCTAssertEqual(f16[1].bitPattern, 0x8000_0000)
        XCTAssertEqual(f16[2], 0x1p-24)
        XCTAssertEqual(f16[6], 1023 * 0x1p-24)
        XCTAssertEqual(f16[12], 1)
        XCTAssertEqual(f16[20], 65504)
        XCTAssertEqual(f16[22], .infinity)
        XCTAssertEqual(f16[23], -.infinity)
        XCTAssertTrue(f16[24].isNaN && !f16[24].isSignalingNaN)
        XCTAssertTrue(f16[26].isSignalingNaN)
        let bf16 = try file.floats("bf16")
        XCTAssertEqual(bf16[2], Float(bitPattern: 0x0001_0000))
        XCTAssertEqual(bf16[8], 1)
        XCTAssertEqual(bf16[14], .infinity)
    }

    /// An independent statement of the F16 format: value = (-1)^s * m * 2^(e-25) with the
    /// implicit bit, or m * 2^-24 for subnormals.
    private func referenceHalf(_ h: UInt16) -> UInt32 {
        let sign: UInt32 = h & 0x8000 != 0 ? 0x8000_0000 : 0
        let e = Int(h >> 10) & 0x1F, m = Int(h & 0x3FF)
        if e == 0x1F { return sign | 0x7F80_0000 | UInt32(m) << 13 }
        let magnitude = e == 0 ? Double(m) * pow(2, -24) : Double(1024 + m) * pow(2, Double(e - 25))
        return sign | Float(magnitude).bitPattern
    }

    func testHalfConversionIsExactForAllBitPatterns() {
        for h in 0...UInt16.max {
            let got = HalfConversion.floatBits(fromHalf: h)
            XCTAssertEqual(got, referenceHalf(h), "F16 0x\(String(h, radix: 16))")
            #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            let native = Float(Float16(bitPattern: h))
            if native.isNaN {
                XCTAssertTrue(Float(bitPattern: got).isNaN)
            } else {
                XCTAssertEqual(got, native.bitPattern, "F16 0x\(String(h, radix: 16))")
            }
            #endif
        }
    }

    func testBFloat16ConversionIsExactForAllBitPatterns() {
        for b in 0...UInt16.max {
            let got = Float(bitPattern: HalfConversion.floatBits(fromBFloat16: b))
            let sign: Double = b & 0x8000 != 0 ? -1 : 1
            let e = Int(b >> 7) & 0xFF, m = Int(b & 0x7F)
            if e == 0xFF {
                XCTAssertEqual(got.bitPattern, UInt32(b) << 16)
                XCTAssertEqual(got.isNaN, m != 0)
                continue
            }
            let magnitude = e == 0 ? Double(m) * pow(2, -133) : Double(128 + m) * pow(2, Double(e - 134))
            XCTAssertEqual(Double(got), sign * magnitude, "BF16 0x\(String(b, radix: 16))")
            XCTAssertEqual(got.sign, b & 0x8000 != 0 ? .minus : .plus)
        }
    }

    func testReadIntoBufferAndUnalignedData() throws {
        // The header length is made odd so the data area, and every value in it, is misaligned.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7C00]
        let bf16: [UInt16] = [0x3F80, 0xC000]
        let f32: [Float] = [1.5, -2.25]
        var data: [UInt8] = []
        for h in f16 { data += [UInt8(h & 0xFF), UInt8(h >> 8)] }
        for b in bf16 { data += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        for f in f32 { data += (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * UInt32($0))) } }
        let header = """
            {"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},\
            "b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},\
            "f":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}
            """
        let url = try rawFile(header: header.utf8.count % 2 == 0 ? header + " " : header, data: data)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.floats("h"), [1, -2, 0x1p-24, .infinity])
        XCTAssertEqual(try file.floats("b"), [1, -2])
        XCTAssertEqual(try file.floats("f"), [1.5, -2.25])

        var buffer = [Float](repeating: 0, count: 4)
        try buffer.withUnsafeMutableBufferPointer { try file.read("h", into: $0) }
        XCTAssertEqual(buffer, [1, -2, 0x1p-24, .infinity])

        var wrong = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try file.read("h", into: $0) }) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("model.safetensors") && message.contains("'h'") && message.contains("3 floats"), message)
        }
        XCTAssertThrowsError(try file.floats("missing")) { error in
            XCTAssertEqual("\(error)", "model.safetensors: tensor 'missing': not in the file")
        }
    }

    func testIntegerTensorsAreListedButNotReadableAsFloats() throws {
        let data = [UInt8](repeating: 0, count: 24) + [0, 0, 128, 63]
        let url = try rawFile(
            header: """
                {"text.position_ids":{"dtype":"I64","shape":[1,3],"data_offsets":[0,24]},\
                "w":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}}
                """, data: data)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.names, ["text.position_ids", "w"])
        XCTAssertNil(file.dtype(of: "text.position_ids"))
        XCTAssertEqual(file.storedDType(of: "text.position_ids"), "I64")
        XCTAssertEqual(file.shape(of: "text.position_ids"), [1, 3])
        XCTAssertEqual(try file.floats("w"), [1])
        XCTAssertThrowsError(try file.floats("text.position_ids")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("model.safetensors") && message.contains("'text.position_ids'") && message.contains("I64"), message)
        }
    }

    // MARK: - Corrupt files

    func testTruncatedFilesFail() throws {
        let good = directory.appendingPathComponent("good.safetensors")
        try SafeTensorsWriter.write(
            [(name: "vision_model.embeddings.class_embedding", shape: [1, 1, 8], values: Array(repeating: 1, count: 8)),
             (name: "a.weight", shape: [4], values: [1, 2, 3, 4])],
            to: good)
        let bytes = [UInt8](try Data(contentsOf: good))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }

        for cut in [0, 1, 7] {
            let url = try bytesFile(Array(bytes[..<cut]), name: "cut\(cut).safetensors")
            assertOpenFails(url, mentions: ["\(cut) bytes", "shorter than the 8-byte header length"])
        }
        for cut in [8, 8 + n / 2, 8 + n - 1] {
            let url = try bytesFile(Array(bytes[..<cut]), name: "cut\(cut).safetensors")
            assertOpenFails(url, mentions: ["header length \(n)", "runs past the end"])
        }
        // a.weight sits first in the data area, the class embedding after it.
        for cut in [8 + n + 16 + 1, bytes.count - 1] {
            let url = try bytesFile(Array(bytes[..<cut]), name: "cut\(cut).safetensors")
            assertOpenFails(url, mentions: ["'vision_model.embeddings.class_embedding'", "data range 16..48 is outside the file"])
        }
        for cut in [8 + n, 8 + n + 3] {
            let url = try bytesFile(Array(bytes[..<cut]), name: "cut\(cut).safetensors")
            assertOpenFails(url, mentions: ["'a.weight'", "data range 0..16 is outside the file"])
        }
        XCTAssertNoThrow(try SafeTensorsFile(url: good))
    }

    func testHeaderLengthTooLarge() throws {
        var huge = [UInt8](repeating: 0, count: 16)
        huge[0..<8] = [0x00, 0xE2, 0xF5, 0x05, 0, 0, 0, 0]  // 100_000_000 + 256 bytes
        assertOpenFails(try bytesFile(huge, name: "huge.safetensors"), mentions: ["header length 100000256", "limit"])

        var big = [UInt8](repeating: 0x20, count: 64)
        big[0..<8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        assertOpenFails(try bytesFile(big, name: "big.safetensors"), mentions: ["header length 18446744073709551615"])

        // Big-endian length bytes must not be accepted as a small length.
        var swapped = [UInt8](repeating: 0x20, count: 32)
        swapped[0..<8] = [0, 0, 0, 0, 0, 0, 0, 2]
        assertOpenFails(try bytesFile(swapped, name: "swapped.safetensors"), mentions: ["header length 144115188075855872"])
    }

    func testMalformedHeaders() throws {
        assertOpenFails(try rawFile(header: "{\"a\": {\"dtype\": ", data: [], name: "badjson.safetensors"),
                        mentions: ["header is not valid JSON"])
        assertOpenFails(try rawFile(header: "[1, 2]", data: [], name: "array.safetensors"),
                        mentions: ["header is not a JSON object"])
        let url = directory.appendingPathComponent("utf8.safetensors")
        try Data([4, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0xFE, 0x7D]).write(to: url)
        assertOpenFails(url, mentions: ["header is not valid UTF-8"])
        assertOpenFails(try rawFile(header: "{\"__metadata__\":{\"format\":1}}", data: [], name: "meta.safetensors"),
                        mentions: ["__metadata__.format", "expected a string"])
    }

    func testEntryFieldErrorsNameTheTensor() throws {
        let name = "text_decoder.bert.encoder.layer.0.attention.self.query.weight"
        let cases: [(String, [String])] = [
            (#""\#(name)":5"#, ["expected an object"]),
            (#""\#(name)":{"shape":[1],"data_offsets":[0,4]}"#, ["missing dtype"]),
            (#""\#(name)":{"dtype":"F32","data_offsets":[0,4]}"#, ["missing shape"]),
            (#""\#(name)":{"dtype":"F32","shape":[1]}"#, ["missing data_offsets"]),
            (#""\#(name)":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}"#, ["unknown dtype \"Q7\""]),
            (#""\#(name)":{"dtype":32,"shape":[1],"data_offsets":[0,4]}"#, ["dtype: expected a string"]),
            (#""\#(name)":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#, ["shape[0]", "got -1"]),
            (#""\#(name)":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}"#, ["shape[0]", "got 1.5"]),
            (#""\#(name)":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}"#, ["shape[0]", "got 1.0"]),
            (#""\#(name)":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}"#, ["shape[0]", "got true"]),
            (#""\#(name)":{"dtype":"F32","shape":"1","data_offsets":[0,4]}"#, ["shape: expected an array"]),
            (#""\#(name)":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}"#, ["4..0", "begin is after end"]),
            (#""\#(name)":{"dtype":"F32","shape":[1],"data_offsets":[0]}"#, ["data_offsets: expected [begin, end]"]),
            (#""\#(name)":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}"#, ["data_offsets: expected [begin, end]"]),
            (#""\#(name)":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}"#, ["holds 4 bytes", "needs 8"]),
            (#""\#(name)":{"dtype":"F16","shape":[1],"data_offsets":[0,4]}"#, ["holds 4 bytes", "F16 needs 2"]),
            (#""\#(name)":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}"#, ["too many elements"]),
        ]
        for (entry, parts) in cases {
            let url = try rawFile(header: "{\(entry)}", data: [0, 0, 0, 0])
            assertOpenFails(url, mentions: ["tensor '\(name)'"] + parts)
        }
    }

    func testOverlappingRangesFail() throws {
        let url = try rawFile(
            header: """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
                "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
                """, data: [UInt8](repeating: 0, count: 12))
        assertOpenFails(url, mentions: ["tensor 'b'", "4..12", "overlaps tensor 'a' (0..8)"])

        let duplicate = try rawFile(
            header: """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},\
                "b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}
                """, data: [UInt8](repeating: 0, count: 4), name: "same.safetensors")
        assertOpenFails(duplicate, mentions: ["tensor 'b'", "overlaps tensor 'a'"])

        // An empty tensor inside another one's range also breaks the tiling.
        let inside = try rawFile(
            header: """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
                "e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}
                """, data: [UInt8](repeating: 0, count: 8), name: "inside.safetensors")
        assertOpenFails(inside, mentions: ["tensor 'e'", "overlaps tensor 'a'"])

        // Empty tensors at a boundary are fine.
        let boundary = try rawFile(
            header: """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
                "e":{"dtype":"F32","shape":[0,2],"data_offsets":[8,8]},\
                "f":{"dtype":"BF16","shape":[0],"data_offsets":[0,0]}}
                """, data: [UInt8](repeating: 0, count: 8), name: "boundary.safetensors")
        let file = try SafeTensorsFile(url: boundary)
        XCTAssertEqual(try file.floats("e"), [])
        XCTAssertEqual(try file.floats("f"), [])
    }

    func testHolesAndTrailingBytesFail() throws {
        let middle = try rawFile(
            header: """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},\
                "b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}
                """, data: [UInt8](repeating: 0, count: 12), name: "middle.safetensors")
        assertOpenFails(middle, mentions: ["tensor 'b'", "hole of 4 bytes", "after tensor 'a'"])

        let start = try rawFile(
            header: #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [UInt8](repeating: 0, count: 8), name: "start.safetensors")
        assertOpenFails(start, mentions: ["tensor 'b'", "hole of 4 bytes at the start"])

        let trailing = try rawFile(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            data: [UInt8](repeating: 0, count: 7), name: "trailing.safetensors")
        assertOpenFails(trailing, mentions: ["tensor 'a'", "3 unused bytes"])

        let noTensors = try rawFile(header: "{}", data: [1, 2], name: "none.safetensors")
        assertOpenFails(noTensors, mentions: ["no tensors", "2 bytes"])
    }

    func testMissingFileFails() {
        let url = directory.appendingPathComponent("absent.safetensors")
        assertOpenFails(url, mentions: ["cannot open"])
        assertOpenFails(directory, mentions: [])
    }
}
