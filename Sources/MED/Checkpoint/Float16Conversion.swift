/// Exact widening of IEEE binary16 (F16) and bfloat16 (BF16) bit patterns to binary32.
///
/// Done on bit patterns rather than through `Float16` because `Float16` is unavailable on
/// some targets (macOS on x86_64), and so that NaN payloads survive unchanged: a NaN keeps
/// its sign and its payload bits, moved to the top of the F32 mantissa (so a signalling NaN
/// stays signalling and a quiet one stays quiet).
package enum HalfConversion {
    /// F32 bit pattern of the F16 value with bit pattern `h`. Every F16 value, subnormals
    /// included, is exactly representable in F32, so this never rounds.
    @inline(__always)
    package static func floatBits(fromHalf h: UInt16) -> UInt32 {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {
            return sign | 0x7F80_0000 | (mantissa << 13)
        }
        if exponent != 0 {
            // Rebias the exponent from 15 to 127.
            return sign | ((exponent + 112) << 23) | (mantissa << 13)
        }
        if mantissa == 0 {
            return sign
        }
        // Subnormal: mantissa * 2^-24. The mantissa (< 2^10) and the power of two are both
        // exact in F32, so the product is the exact value.
        return sign | (Float(mantissa) * 0x1p-24).bitPattern
    }

    /// F32 bit pattern of the BF16 value with bit pattern `b`: BF16 is the top half of F32.
    @inline(__always)
    package static func floatBits(fromBFloat16 b: UInt16) -> UInt32 {
        UInt32(b) << 16
    }

    /// Widens `count` little-endian F16 values at `source` (any alignment) into `destination`.
    @inline(__always)
    package static func widenHalf(
        from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let h = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            destination[i] = Float(bitPattern: floatBits(fromHalf: h))
        }
    }

    /// Widens `count` little-endian BF16 values at `source` (any alignment) into `destination`.
    @inline(__always)
    package static func widenBFloat16(
        from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let b = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            destination[i] = Float(bitPattern: UInt32(b) << 16)
        }
    }
}
