import XCTest
@testable import Ingest

/// The v2 encodings and the logical value texts on hand-made bytes, worked out from the format's
/// specification, including the damaged cases the writer fixtures cannot show.
final class ParquetEncodingTests: XCTestCase {
    private func column(_ type: ParquetPhysicalType, _ logical: ParquetLogicalType = .none, length: Int = 0) -> ParquetColumn {
        ParquetColumn(name: "c", index: 0, physicalType: type, isOptional: false, logicalType: logical, typeLength: length)
    }

    private func all(_ decoder: PageValueDecoder, _ n: Int) throws -> [ParquetValue] {
        try (0..<n).map { _ in try decoder.next() }
    }

    func testDeltaBinaryPacked() throws {
        // Block of 128 values in 4 miniblocks; 5 values, first 1, every delta 1 (bit width 0).
        var ones = try DeltaBinaryPackedStream(PageBytes([0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0]), maxCount: 5)
        XCTAssertEqual(try (0..<5).map { _ in try ones.next() }, [1, 2, 3, 4, 5])
        XCTAssertEqual(try ones.end(), 10)
        XCTAssertThrowsError(try ones.next())

        // 7, 5, 3, 1, 2, 3, 4, 5: minimum delta -2, packed 0 0 0 3 3 3 3 at 2 bits; the miniblock
        // is padded to 32 values (8 bytes); a byte after the stream is not part of it.
        let bytes: [UInt8] = [0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0, 0xAA]
        var stream = try DeltaBinaryPackedStream(PageBytes(bytes), maxCount: 8)
        XCTAssertEqual(try (0..<8).map { _ in try stream.next() }, [7, 5, 3, 1, 2, 3, 4, 5])
        XCTAssertEqual(try stream.end(), 18)

        // The padding missing: the values read, but the stream's end cannot be found.
        var short = try DeltaBinaryPackedStream(PageBytes(Array(bytes.prefix(12))), maxCount: 8)
        XCTAssertEqual(try (0..<8).map { _ in try short.next() }, [7, 5, 3, 1, 2, 3, 4, 5])
        XCTAssertThrowsError(try short.end())
        // The packed bits missing.
        var cut = try DeltaBinaryPackedStream(PageBytes(Array(bytes.prefix(10))), maxCount: 8)
        XCTAssertThrowsError(try (0..<8).forEach { _ in _ = try cut.next() })

        // Arithmetic wraps: Int64.max + 1 is Int64.min.
        let wrap: [UInt8] = [0x80, 0x01, 0x04, 0x02, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0, 0, 0, 0]
        let decoder = try DeltaBinaryPackedDecoder(column: column(.int64), input: PageBytes(wrap), maxCount: 2)
        XCTAssertEqual(try all(decoder, 2), [.int(.max), .int(.min)])
        // INT32 columns keep the low 32 bits; an unsigned annotation reads them unsigned.
        let u32 = try DeltaBinaryPackedDecoder(column: column(.int32, .integer(bitWidth: 32, signed: false)),
                                               input: PageBytes([0x80, 0x01, 0x04, 0x01, 0x01]), maxCount: 1)
        XCTAssertEqual(try u32.next(), .uint(4_294_967_295))

        // Headers the format does not allow, and counts past the page's.
        XCTAssertThrowsError(try DeltaBinaryPackedStream(PageBytes([0x64, 0x04, 0x05, 0x02]), maxCount: 5))
        XCTAssertThrowsError(try DeltaBinaryPackedStream(PageBytes([0x80, 0x01, 0x03, 0x05, 0x02]), maxCount: 5))
        XCTAssertThrowsError(try DeltaBinaryPackedStream(PageBytes([0x80, 0x01, 0x04, 0x05, 0x02]), maxCount: 4))
        var wide = try DeltaBinaryPackedStream(PageBytes([0x80, 0x01, 0x04, 0x02, 0x02, 0x02, 65, 0, 0, 0]), maxCount: 2)
        _ = try wide.next()
        XCTAssertThrowsError(try wide.next())
    }

    func testDeltaLengthAndDeltaByteArray() throws {
        let miniblock = [UInt8](repeating: 0, count: 11)
        // Lengths 2, 0, 3 (first 2, deltas -2 and 3: minimum -2, packed 0 and 5 at 3 bits), then "abxyz".
        let lengths: [UInt8] = [0x80, 0x01, 0x04, 0x03, 0x04, 0x03, 3, 0, 0, 0, 0x28] + miniblock
        let text = column(.byteArray, .string)
        let dlba = try DeltaLengthByteArrayDecoder(column: text, input: PageBytes(lengths + Array("abxyz".utf8)), maxCount: 3)
        XCTAssertEqual(try all(dlba, 3), [.string("ab"), .string(""), .string("xyz")])
        XCTAssertThrowsError(try dlba.next())
        let short = try DeltaLengthByteArrayDecoder(column: text, input: PageBytes(lengths + Array("abxy".utf8)), maxCount: 3)
        XCTAssertThrowsError(try all(short, 3))

        // "apple", "apply", "ape": prefixes 0, 4, 2; suffixes "apple", "y", "e".
        let prefixes: [UInt8] = [0x80, 0x01, 0x04, 0x03, 0x00, 0x03, 3, 0, 0, 0, 0x06] + miniblock
        let suffixLengths: [UInt8] = [0x80, 0x01, 0x04, 0x03, 0x0A, 0x07, 3, 0, 0, 0, 0x20] + miniblock
        let input = prefixes + suffixLengths + Array("appleye".utf8)
        let dba = try DeltaByteArrayDecoder(column: text, input: PageBytes(input), maxCount: 3)
        XCTAssertEqual(try all(dba, 3), [.string("apple"), .string("apply"), .string("ape")])
        let binary = try DeltaByteArrayDecoder(column: column(.byteArray), input: PageBytes(input), maxCount: 3)
        XCTAssertEqual(try binary.next(), .bytes(Array("apple".utf8)))
        // Packed 6 and 1 instead: prefixes 0, 4, 3.
        var bad = input
        bad[10] = 0x0E
        let first = try DeltaByteArrayDecoder(column: text, input: PageBytes(bad), maxCount: 3)
        XCTAssertEqual(try all(first, 3), [.string("apple"), .string("apply"), .string("appe")])
        bad[4] = 0x02    // first prefix 1: longer than the (empty) value before the first
        let noPrevious = try DeltaByteArrayDecoder(column: text, input: PageBytes(bad), maxCount: 3)
        XCTAssertThrowsError(try noPrevious.next())
        XCTAssertThrowsError(try DeltaByteArrayDecoder(column: column(.int32), input: PageBytes(input), maxCount: 3))
    }

    func testByteStreamSplit() throws {
        // 1.0 and 2.0 as floats: bytes 00 00 80 3F and 00 00 00 40, byte k of each together.
        let floats = try ByteStreamSplitDecoder(column: column(.float), input: PageBytes([0, 0, 0, 0, 0x80, 0, 0x3F, 0x40]))
        XCTAssertEqual(try all(floats, 2), [.float(1), .float(2)])
        XCTAssertThrowsError(try floats.next())
        let ints = try ByteStreamSplitDecoder(column: column(.int32, .integer(bitWidth: 32, signed: false)),
                                              input: PageBytes([0xFF, 1, 0xFF, 0, 0xFF, 0, 0xFF, 0]))
        XCTAssertEqual(try all(ints, 2), [.uint(4_294_967_295), .uint(1)])
        let half = try ByteStreamSplitDecoder(column: column(.fixedLenByteArray, .float16, length: 2),
                                              input: PageBytes([0x00, 0x00, 0x3C, 0xC0]))
        XCTAssertEqual(try all(half, 2), [.float(1), .float(-2)])
        XCTAssertThrowsError(try ByteStreamSplitDecoder(column: column(.float), input: PageBytes([0, 0, 0, 0, 0])))
        XCTAssertThrowsError(try ByteStreamSplitDecoder(column: column(.byteArray), input: PageBytes([0, 0, 0, 0])))
    }

    func testLogicalValueTexts() {
        XCTAssertEqual(DecimalText.text(unscaled: 12345, scale: 2), "123.45")
        XCTAssertEqual(DecimalText.text(unscaled: -5, scale: 2), "-0.05")
        XCTAssertEqual(DecimalText.text(unscaled: 0, scale: 2), "0.00")
        XCTAssertEqual(DecimalText.text(unscaled: 7, scale: 0), "7")
        XCTAssertEqual(DecimalText.text(unscaled: .min, scale: 3), "-9223372036854775.808")
        XCTAssertEqual(DecimalText.text(bigEndian: [0xFF], scale: 2), "-0.01")
        XCTAssertEqual(DecimalText.text(bigEndian: [0x80, 0x00], scale: 0), "-32768")
        // 2^127 - 1 and -2^127, the ends of a 16-byte decimal.
        XCTAssertEqual(DecimalText.text(bigEndian: ArraySlice([0x7F] + [UInt8](repeating: 0xFF, count: 15)), scale: 10),
                       "17014118346046923173168730371.5884105727")
        XCTAssertEqual(DecimalText.text(bigEndian: ArraySlice([0x80] + [UInt8](repeating: 0, count: 15)), scale: 0),
                       "-170141183460469231731687303715884105728")
        XCTAssertNil(DecimalText.text(bigEndian: [], scale: 0))

        XCTAssertEqual(CivilTime.date(days: 0), "1970-01-01")
        XCTAssertEqual(CivilTime.date(days: -719_162), "0001-01-01")
        XCTAssertEqual(CivilTime.date(days: 2_932_896), "9999-12-31")
        XCTAssertEqual(CivilTime.date(days: 19_782), "2024-02-29")
        XCTAssertEqual(CivilTime.timestamp(-1, unit: .millis, utc: true), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(CivilTime.timestamp(1, unit: .nanos, utc: false), "1970-01-01T00:00:00.000000001")
        XCTAssertEqual(CivilTime.time(45_296_789_000, unit: .micros), "12:34:56.789000")
        XCTAssertNil(CivilTime.time(-1, unit: .millis))

        XCTAssertEqual(ParquetColumn.float(half: 0x3C00), 1)
        XCTAssertEqual(ParquetColumn.float(half: 0x7BFF), 65504)
        XCTAssertEqual(ParquetColumn.float(half: 0x0001), 0x1p-24)
        XCTAssertEqual(ParquetColumn.float(half: 0xFC00), -.infinity)
        XCTAssertTrue(ParquetColumn.float(half: 0x7E00).isNaN)

        // INT96: nanoseconds of the day, then the Julian day (2440589 is 1970-01-02).
        let int96 = column(.int96)
        let noon: [UInt8] = [0x00, 0x80, 0xA7, 0x48, 0x4A, 0x27, 0x00, 0x00] + [0x8D, 0x3D, 0x25, 0x00]
        XCTAssertEqual(int96.value(int96: noon[...]), .string("1970-01-02T12:00:00.000000000"))
        // UUIDs of the wrong length stay bytes.
        XCTAssertEqual(column(.fixedLenByteArray, .uuid, length: 2).value(bytes: [1, 2]), .bytes([1, 2]))
    }
}
