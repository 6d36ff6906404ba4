import Basics
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

        let directory = url.deletingLastPathComponent().path
        do {
            let (fd, temporary) = try DurableFile.createTemporary(in: directory)
            do {
                var prefix = [UInt8](repeating: 0, count: 8)
                let length = UInt64(header.count)
                for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
                try writeAll(fd, prefix)
                try writeAll(fd, header)
                for tensor in ordered {
                    #if _endian(little)
                    try tensor.values.withUnsafeBytes { try writeAll(fd, $0) }
                    #else
                    let littleEndian = tensor.values.map { $0.bitPattern.littleEndian }
                    try littleEndian.withUnsafeBytes { try writeAll(fd, $0) }
                    #endif
                }
            } catch {
                close(fd)
                unlink(temporary)
                throw error
            }
            try DurableFile.commit(descriptor: fd, temporary: temporary, to: url.path, durable: true)
        } catch {
            throw fail("\(error)")
        }
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
                DeterministicJSON.quote(key) + ":" + DeterministicJSON.quote(metadata[key]!)
            }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.count
            if !first { json += "," }
            first = false
            json += DeterministicJSON.quote(tensor.name) + ":{\"dtype\":\"F32\",\"shape\":["
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
}
