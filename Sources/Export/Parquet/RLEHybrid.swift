/// Parquet's RLE / bit-packing hybrid, as it encodes definition levels and dictionary indices:
/// a run of one repeated value (8 or more) as an RLE run, everything else in bit-packed groups
/// of 8 values.
enum RLEHybrid {
    static func encode(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        var pending: [UInt32] = []   // values waiting for a bit-packed run, a multiple of 8 long
        func flushPacked() {
            guard !pending.isEmpty else { return }
            let groups = (pending.count + 7) / 8
            varint(UInt64(groups << 1 | 1), &out)
            out += BitPacking.pack(pending, bitWidth: bitWidth, count: groups * 8)
            pending.removeAll(keepingCapacity: true)
        }
        while i < values.count {
            var run = 1
            while i + run < values.count && values[i + run] == values[i] { run += 1 }
            // A run is worth its own header from 8 on, and only where the packed values before it
            // fill whole groups (a bit-packed run cannot end mid-group except at the very end).
            if run >= 8 && pending.count % 8 == 0 {
                flushPacked()
                varint(UInt64(run << 1), &out)
                let byteWidth = (bitWidth + 7) / 8
                for b in 0..<byteWidth { out.append(UInt8(truncatingIfNeeded: values[i] >> (8 * b))) }
                i += run
            } else {
                pending.append(values[i])
                i += 1
            }
        }
        flushPacked()
        return out
    }

    private static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// Values packed least significant bit first, `bitWidth` bits each, padded with zeros to `count`.
enum BitPacking {
    static func pack(_ values: [UInt32], bitWidth: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (count * bitWidth + 7) / 8)
        guard bitWidth > 0 else { return out }
        var bit = 0
        for v in values {
            for b in 0..<bitWidth where v >> b & 1 == 1 {
                out[(bit + b) >> 3] |= 1 << ((bit + b) & 7)
            }
            bit += bitWidth
        }
        return out
    }
}
