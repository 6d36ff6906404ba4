import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes F32 safetensors files laid out exactly as the reference (Rust) implementation
/// lays them out: tensors in byte-wise name order, packed back to back; compact JSON header
/// with `__metadata__` first (keys sorted), then each tensor's dtype, shape and
/// data_offsets; header padded with spaces so the data area starts on an 8-byte boundary.
public enum SafeTensorsWriter {
    /// Writes atomically: to a temporary file in the destination folder, flushed, then
    /// renamed over `url`, so readers never see a half-written checkpoint.
    public static func write(
        _ tensors: [(name: String, shape: [Int], values: [Float])],
        metadata: [String: String]? = ["format": "pt"],
        to url: URL
    ) throws {
        let fileName = url.lastPathComponent
        func fail(_ message: String) -> CheckpointError { CheckpointError("\(fileName): \(message)") }

        var seen = Set<String>()
        for tensor in tensors {
            let name = tensor.name
            guard name != "__metadata__" else { throw fail("tensor '\(name)': name is reserved for the metadata") }
            guard seen.insert(name).inserted else { throw fail("tensor '\(name)': name appears more than once") }
            if let axis = tensor.shape.firstIndex(where: { $0 < 0 }) {
                throw fail("tensor '\(name)': shape[\(axis)] is \(tensor.shape[axis]), expected a non-negative integer")
            }
            guard let count = shapeElementCount(tensor.shape), count <= Int.max / 4 else {
                throw fail("tensor '\(name)': shape \(tensor.shape) has too many elements")
            }
            guard count == tensor.values.count else {
                throw fail("tensor '\(name)': shape \(tensor.shape) has \(count) elements but \(tensor.values.count) values were given")
            }
        }

        let ordered = tensors.sorted { utf8Precedes($0.name, $1.name) }
        let header = headerBytes(ordered.map { ($0.name, $0.shape, $0.values.count) }, metadata: metadata)

        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(fileName).\(getpid()).\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw fail("cannot create a temporary file in \(directory.path): \(String(cString: strerror(errno)))")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary.path) }
        }

        var prefix = [UInt8](repeating: 0, count: 8)
        let length = UInt64(header.count)
        for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
        try writeAll(fd, prefix, fileName: fileName)
        try writeAll(fd, header, fileName: fileName)
        for tensor in ordered {
            #if _endian(little)
            try tensor.values.withUnsafeBytes { try writeAll(fd, $0, fileName: fileName) }
            #else
            let littleEndian = tensor.values.map { $0.bitPattern.littleEndian }
            try littleEndian.withUnsafeBytes { try writeAll(fd, $0, fileName: fileName) }
            #endif
        }
        guard fsync(fd) == 0 else { throw fail("cannot flush: \(String(cString: strerror(errno)))") }
        closed = true
        guard close(fd) == 0 else { throw fail("cannot close: \(String(cString: strerror(errno)))") }
        guard rename(temporary.path, url.path) == 0 else {
            throw fail("cannot move the temporary file into place: \(String(cString: strerror(errno)))")
        }
        renamed = true
    }

    /// The JSON header including its space padding; tensors must already be in file order.
    static func headerBytes(_ tensors: [(name: String, shape: [Int], count: Int)], metadata: [String: String]?)
        -> [UInt8]
    {
        var json = "{"
        var first = true
        if let metadata {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted(by: utf8Precedes).map { key in
                "\"\(jsonEscaped(key))\":\"\(jsonEscaped(metadata[key]!))\""
            }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.count
            if !first { json += "," }
            first = false
            json += "\"\(jsonEscaped(tensor.name))\":{\"dtype\":\"F32\",\"shape\":["
            json += tensor.shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return bytes
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], fileName: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, fileName: fileName) }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, fileName: String) throws {
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            // Bounded chunks: some kernels cap a single write near 2 GiB.
            let written = posixWrite(fd, pointer, min(remaining, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw CheckpointError("\(fileName): write failed: \(String(cString: strerror(errno)))")
            }
            pointer += written
            remaining -= written
        }
    }
}

// Named apart from SafeTensorsWriter.write, which would shadow the C function inside the enum.
@inline(__always)
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

/// JSON string escaping as serde_json does it (and so the safetensors reference writer):
/// quote, backslash and control characters escaped, everything else written as UTF-8.
func jsonEscaped(_ string: String) -> String {
    var out = ""
    out.reserveCapacity(string.utf8.count)
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
