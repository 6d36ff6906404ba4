/// NumPy `.npy` version 1.0 files holding little-endian float32 arrays in C order.
///
/// Layout: the magic `\x93NUMPY`, version bytes 1 and 0, a little-endian UInt16 header length,
/// then an ASCII header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (...), }`
/// padded with spaces and ended by a newline so that the data starts at a multiple of 64
/// bytes, then the raw values. The header text is the one `np.save` writes, so files are
/// byte-identical to numpy's.
public enum NumpyFile {
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The header dict as numpy formats it: a one-element shape keeps its trailing comma.
    static func headerDict(shape: [Int]) -> String {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        return "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"
    }

    /// The complete file for `values` of the given C-order `shape`.
    public static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        var header = Array(headerDict(shape: shape).utf8)
        // 10 bytes of preamble (magic, version, length) + header + "\n", padded to 64.
        let unpadded = 10 + header.count + 1
        header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64)
        header.append(0x0A)
        var out = magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        out.reserveCapacity(out.count + header.count + 4 * values.count)
        out += header
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in values {
            let bits = v.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        }
        #endif
        return out
    }
}
