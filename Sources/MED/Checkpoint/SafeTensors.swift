import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Floating-point element types this engine can read from a safetensors file.
public enum SafeTensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }
}

/// A checkpoint or config problem, described on one line that names the file and the
/// tensor or field involved.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A memory-mapped safetensors file (https://github.com/huggingface/safetensors format):
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data area.
///
/// The whole header is validated when the file is opened, so a file that opens can be read
/// tensor by tensor without further structural errors. Tensors of any dtype in the format's
/// specification are accepted in the header (BLIP checkpoints may carry integer buffers such
/// as `position_ids`); only F32, F16 and BF16 tensors can be read as floats.
public final class SafeTensorsFile: @unchecked Sendable {
    // Sendable because everything is immutable after init and the mapping is read-only.

    struct Entry {
        let dtypeName: String
        let dtype: SafeTensorsDType?
        let shape: [Int]
        let count: Int
        let begin: Int  // relative to the data area
        let end: Int
    }

    public let url: URL
    public let names: [String]
    public let metadata: [String: String]

    private let entries: [String: Entry]
    private let base: UnsafeRawPointer
    private let mappedSize: Int
    private let dataStart: Int
    private let fileName: String

    /// The safetensors reference implementation refuses headers above this size.
    static let maxHeaderLength: UInt64 = 100_000_000

    public init(url: URL) throws {
        let fileName = url.lastPathComponent
        func fail(_ message: String) -> CheckpointError { CheckpointError("\(fileName): \(message)") }

        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot stat: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw fail("file is \(size) bytes, shorter than the 8-byte header length")
        }

        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw fail("cannot memory-map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(mapped)
        let parsed: (names: [String], metadata: [String: String], entries: [String: Entry], dataStart: Int)
        do {
            parsed = try Self.parseHeader(base: base, size: size, fileName: fileName)
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.url = url
        self.fileName = fileName
        self.base = base
        self.mappedSize = size
        self.names = parsed.names
        self.metadata = parsed.metadata
        self.entries = parsed.entries
        self.dataStart = parsed.dataStart
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedSize)
    }

    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    /// The element type, or nil when there is no such tensor or it is not a float type
    /// this engine reads (see `storedDType(of:)`).
    public func dtype(of name: String) -> SafeTensorsDType? { entries[name]?.dtype }

    /// The dtype string as stored in the header, e.g. "F32" or "I64".
    public func storedDType(of name: String) -> String? { entries[name]?.dtypeName }

    public func elementCount(of name: String) -> Int? { entries[name]?.count }

    /// The tensor's values converted to F32 (F16 and BF16 widen exactly).
    public func floats(_ name: String) throws -> [Float] {
        let entry = try self.entry(name)
        return try [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
            try read(name, into: buffer)
            initialized = entry.count
        }
    }

    /// Copies or widens the tensor straight into `buffer`, whose count must equal the
    /// tensor's element count.
    package func read(_ name: String, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let entry = try self.entry(name)
        guard let dtype = entry.dtype else {
            throw CheckpointError(
                "\(fileName): tensor '\(name)': dtype \(entry.dtypeName) cannot be read as floats (F32, F16 or BF16)")
        }
        guard buffer.count == entry.count else {
            throw CheckpointError(
                "\(fileName): tensor '\(name)': buffer holds \(buffer.count) floats but shape \(entry.shape) has \(entry.count) elements")
        }
        guard entry.count > 0, let destination = buffer.baseAddress else { return }
        let source = base + (dataStart + entry.begin)
        switch dtype {
        case .f32:
            #if _endian(little)
            memcpy(destination, source, entry.count * 4)
            #else
            for i in 0..<entry.count {
                destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .f16:
            HalfConversion.widenHalf(from: source, to: destination, count: entry.count)
        case .bf16:
            HalfConversion.widenBFloat16(from: source, to: destination, count: entry.count)
        }
        releasePages(from: dataStart + entry.begin, count: entry.end - entry.begin)
    }

    /// Drops the file pages of a tensor that has been copied out, so that loading a model does
    /// not hold the mapped file and the model's own copy in memory at once (peak RSS would be
    /// twice the checkpoint). The pages come back from the file if the tensor is read again.
    private func releasePages(from offset: Int, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page, end = (offset + count) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw CheckpointError("\(fileName): tensor '\(name)': not in the file")
        }
        return entry
    }

    // MARK: - Header validation

    /// Bits per element of every dtype in the safetensors specification.
    static let knownDTypeBits: [String: Int] = [
        "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
        "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32,
        "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    ]

    private static func parseHeader(base: UnsafeRawPointer, size: Int, fileName: String) throws
        -> (names: [String], metadata: [String: String], entries: [String: Entry], dataStart: Int)
    {
        func fail(_ message: String) -> CheckpointError { CheckpointError("\(fileName): \(message)") }

        // The length prefix is little-endian whatever the host order.
        var headerLength: UInt64 = 0
        for i in 0..<8 {
            headerLength |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i))
        }
        guard headerLength <= maxHeaderLength else {
            throw fail("header length \(headerLength) exceeds the \(maxHeaderLength)-byte limit (file size \(size))")
        }
        guard headerLength <= UInt64(size - 8) else {
            throw fail("header length \(headerLength) runs past the end of the file (size \(size)): truncated or not a safetensors file")
        }
        let n = Int(headerLength)
        let dataStart = 8 + n
        let dataSize = size - dataStart
        let headerBytes = UnsafeRawBufferPointer(start: base + 8, count: n)

        var iterator = headerBytes.makeIterator()
        var decoder = UTF8()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break decoding
            case .error: throw fail("header is not valid UTF-8")
            }
        }
        let parsedJSON: Any
        do {
            parsedJSON = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw fail("header is not valid JSON (\(JSONDescription.reason(error)))")
        }
        guard let header = parsedJSON as? [String: Any] else {
            throw fail("header is not a JSON object, got \(JSONDescription.describe(parsedJSON))")
        }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"], !(raw is NSNull) {
            guard let object = raw as? [String: Any] else {
                throw fail("header field '__metadata__': expected an object of strings, got \(JSONDescription.describe(raw))")
            }
            for (key, value) in object {
                guard let string = value as? String else {
                    throw fail("header field '__metadata__.\(key)': expected a string, got \(JSONDescription.describe(value))")
                }
                metadata[key] = string
            }
        }

        let names = header.keys.filter { $0 != "__metadata__" }.sorted(by: utf8Precedes)
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(names.count)
        for name in names {
            func bad(_ message: String) -> CheckpointError { fail("tensor '\(name)': \(message)") }
            guard let object = header[name] as? [String: Any] else {
                throw bad("expected an object with dtype, shape and data_offsets, got \(JSONDescription.describe(header[name]!))")
            }
            guard let rawDType = object["dtype"] else { throw bad("missing dtype") }
            guard let dtypeName = rawDType as? String else {
                throw bad("dtype: expected a string, got \(JSONDescription.describe(rawDType))")
            }
            guard let bits = knownDTypeBits[dtypeName] else {
                throw bad("unknown dtype \(JSONDescription.quoted(dtypeName))")
            }

            guard let rawShape = object["shape"] else { throw bad("missing shape") }
            guard let shapeArray = rawShape as? [Any] else {
                throw bad("shape: expected an array of integers, got \(JSONDescription.describe(rawShape))")
            }
            var shape: [Int] = []
            shape.reserveCapacity(shapeArray.count)
            for (axis, rawDim) in shapeArray.enumerated() {
                guard let dim = JSONDescription.integer(rawDim), dim >= 0 else {
                    throw bad("shape[\(axis)]: expected a non-negative integer, got \(JSONDescription.describe(rawDim))")
                }
                shape.append(dim)
            }
            guard let count = shapeElementCount(shape) else {
                throw bad("shape \(shape) has too many elements")
            }

            guard let rawOffsets = object["data_offsets"] else { throw bad("missing data_offsets") }
            guard let offsetArray = rawOffsets as? [Any], offsetArray.count == 2,
                let begin = JSONDescription.integer(offsetArray[0]), let end = JSONDescription.integer(offsetArray[1]),
                begin >= 0, end >= 0
            else {
                throw bad("data_offsets: expected [begin, end] with non-negative integers, got \(JSONDescription.describe(rawOffsets))")
            }
            guard begin <= end else {
                throw bad("data_offsets \(begin)..\(end): begin is after end")
            }
            guard end <= dataSize else {
                throw bad("data range \(begin)..\(end) is outside the file (data area is \(dataSize) bytes, file size \(size)): truncated?")
            }
            let (totalBits, bitsOverflow) = count.multipliedReportingOverflow(by: bits)
            guard !bitsOverflow, totalBits % 8 == 0 else {
                throw bad("shape \(shape) of \(dtypeName) does not fill a whole number of bytes")
            }
            guard end - begin == totalBits / 8 else {
                throw bad("data range \(begin)..\(end) holds \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(totalBits / 8)")
            }
            entries[name] = Entry(
                dtypeName: dtypeName, dtype: SafeTensorsDType(rawValue: dtypeName), shape: shape,
                count: count, begin: begin, end: end)
        }

        // The format requires the tensors to tile the data area exactly: no overlaps, no holes,
        // nothing after the last tensor.
        let byOffset = names.sorted { a, b in
            let x = entries[a]!, y = entries[b]!
            return x.begin != y.begin ? x.begin < y.begin : (x.end != y.end ? x.end < y.end : utf8Precedes(a, b))
        }
        var cursor = 0
        var previous: String? = nil
        for name in byOffset {
            let entry = entries[name]!
            if entry.begin < cursor, let previous {
                let other = entries[previous]!
                throw fail("tensor '\(name)': data range \(entry.begin)..\(entry.end) overlaps tensor '\(previous)' (\(other.begin)..\(other.end))")
            }
            if entry.begin > cursor {
                if let previous {
                    throw fail("tensor '\(name)': data range \(entry.begin)..\(entry.end) leaves a hole of \(entry.begin - cursor) bytes after tensor '\(previous)' (ends at \(cursor))")
                }
                throw fail("tensor '\(name)': data range \(entry.begin)..\(entry.end) leaves a hole of \(entry.begin) bytes at the start of the data area")
            }
            if entry.end > cursor || previous == nil {
                cursor = entry.end
                previous = name
            }
        }
        if cursor < dataSize {
            if let previous {
                throw fail("tensor '\(previous)': data area has \(dataSize - cursor) unused bytes after this tensor (\(cursor)..\(dataSize))")
            }
            throw fail("header lists no tensors but the data area holds \(dataSize) bytes")
        }
        return (names, metadata, entries, dataStart)
    }
}

/// Product of the dimensions (1 for a scalar), or nil when it overflows Int.
func shapeElementCount(_ shape: [Int]) -> Int? {
    if shape.contains(0) { return 0 }
    var count = 1
    for dim in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        count = product
    }
    return count
}

/// Byte-wise UTF-8 order, the order the safetensors reference implementation sorts names in.
func utf8Precedes(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Helpers for reading values out of `JSONSerialization` results and describing them in
/// error messages.
enum JSONDescription {
    static func isBool(_ number: NSNumber) -> Bool {
        // JSON true/false come back as the boolean NSNumber subclass on every Foundation.
        String(describing: type(of: number)).contains("Boolean")
    }

    static func isFloatingPoint(_ number: NSNumber) -> Bool {
        if number is NSDecimalNumber { return true }
        let type = String(cString: number.objCType)
        return type == "d" || type == "f"
    }

    /// The value as an Int when it is a JSON number written without fraction or exponent
    /// part that fits in Int; nil for booleans, floats (even 768.0) and everything else.
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBool(number), !isFloatingPoint(number) else { return nil }
        return number as? Int
    }

    /// Any JSON number (integers included) as a Double; nil for booleans and non-numbers.
    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !isBool(number) else { return nil }
        return number.doubleValue
    }

    static func quoted(_ string: String, limit: Int = 60) -> String {
        let clipped = string.count > limit ? String(string.prefix(limit)) + "..." : string
        return DeterministicJSON.quote(clipped)
    }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let string = value as? String { return quoted(string) }
        if let number = value as? NSNumber {
            if isBool(number) { return number.boolValue ? "true" : "false" }
            if isFloatingPoint(number) { return "\(number.doubleValue)" }
            return "\(number)"
        }
        if let array = value as? [Any] {
            let parts = array.prefix(4).map { element -> String in
                if element is [Any] { return "[...]" }
                if element is [String: Any] { return "{...}" }
                return describe(element)
            }
            return "[" + parts.joined(separator: ", ") + (array.count > 4 ? ", ..." : "") + "]"
        }
        if value is [String: Any] { return "an object" }
        return "\(type(of: value))"
    }

    /// The parser's explanation of why a document is not JSON, without the generic preamble.
    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        var text = nsError.localizedDescription
        if let debug = nsError.userInfo["NSDebugDescription"] as? String, !debug.isEmpty {
            text = debug
        }
        // Messages promise a single line.
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
