import Foundation

/// Perceptual hashes with the definitions of the `imagehash` Python package (4.x), so values
/// are comparable with hashes computed there:
///
/// - Greyscale is Pillow's `convert("L")`: (19595 R + 38470 G + 7471 B + 32768) >> 16.
/// - pHash: greyscale, Pillow LANCZOS resize to 32x32, unnormalised 2-D DCT-II
///   (`scipy.fftpack.dct` along rows of each column, then along each row:
///   X[k] = 2 * sum_n x[n] cos(pi k (2n + 1) / 64)), keep the top-left 8x8 coefficients
///   (DC included), bit = coefficient > median of those 64.
/// - dHash: greyscale, LANCZOS resize to 9 wide x 8 high, bit = pixel[r][c + 1] > pixel[r][c].
///
/// Bits are taken row-major and packed most significant first, so `String(hash, radix: 16)`
/// zero-padded to 16 digits equals `str(imagehash.phash(img))`.
public enum PerceptualHash {
    /// 64-bit DCT hash.
    public static func phash(_ image: RGBImage) -> UInt64 {
        let n = 32
        let small = resample(grayscale(image), width: n, height: n, filter: .lanczos, verticalFirst: nil)
        // cosTable[k * n + i] = cos(pi * k * (2i + 1) / (2n)).
        var cosTable = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            for i in 0..<n {
                cosTable[k * n + i] = cos(Double.pi * Double(k) * Double(2 * i + 1) / Double(2 * n))
            }
        }
        // Along axis 0: columnDCT[k][x] = 2 * sum_y px[y][x] cos(...k, y); only k < 8 is needed.
        let keep = 8
        var columnDCT = [Double](repeating: 0, count: keep * n)
        for k in 0..<keep {
            for x in 0..<n {
                var s = 0.0
                for y in 0..<n { s += Double(small.samples[y * n + x]) * cosTable[k * n + y] }
                columnDCT[k * n + x] = 2 * s
            }
        }
        // Along axis 1 for the kept rows and columns.
        var low = [Double](repeating: 0, count: keep * keep)
        for k in 0..<keep {
            for l in 0..<keep {
                var s = 0.0
                for x in 0..<n { s += columnDCT[k * n + x] * cosTable[l * n + x] }
                low[k * keep + l] = 2 * s
            }
        }
        let sorted = low.sorted()
        let median = (sorted[31] + sorted[32]) / 2
        return pack(low.map { $0 > median })
    }

    /// 64-bit horizontal gradient hash.
    public static func dhash(_ image: RGBImage) -> UInt64 {
        let small = resample(grayscale(image), width: 9, height: 8, filter: .lanczos, verticalFirst: nil)
        var bits = [Bool]()
        bits.reserveCapacity(64)
        for r in 0..<8 {
            for c in 0..<8 { bits.append(small.samples[r * 9 + c + 1] > small.samples[r * 9 + c]) }
        }
        return pack(bits)
    }

    /// Number of differing bits.
    public static func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    /// 16 lowercase hex digits, as `str(ImageHash)` prints a 64-bit hash.
    public static func hex(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func pack(_ bits: [Bool]) -> UInt64 {
        var value: UInt64 = 0
        for bit in bits { value = value << 1 | (bit ? 1 : 0) }
        return value
    }
}

/// Number of differing bits between two 64-bit hashes.
public func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int { PerceptualHash.hammingDistance(a, b) }

/// Pillow's RGB -> L: ITU-R 601-2 luma in 16-bit fixed point, rounded.
func grayscale(_ image: RGBImage) -> Plane {
    let count = image.width * image.height
    var out = [UInt8](repeating: 0, count: count)
    image.pixels.withUnsafeBufferPointer { src in
        for i in 0..<count {
            let v = Int(src[3 * i]) * 19595 + Int(src[3 * i + 1]) * 38470 + Int(src[3 * i + 2]) * 7471 + 0x8000
            out[i] = UInt8(truncatingIfNeeded: v >> 16)
        }
    }
    return Plane(width: image.width, height: image.height, channels: 1, samples: out)
}
