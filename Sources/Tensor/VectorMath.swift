/// Vectorised transcendental functions on 16 float lanes.
///
/// The engine evaluates hundreds of millions of exp and erf per batch (softmax over 577 image
/// tokens, GELU over 3072-wide MLPs); libm's scalar calls would cost more than the matrix products
/// around them. Accuracy is stated per function and checked against libm in TensorTests.
public typealias Float16x = SIMD16<Float>

/// e^x, Cephes-style: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n by
/// building the exponent bits. Max relative error ~2 ulp on [-87, 88]; inputs below -87.3 give 0.
@inline(__always)
public func vexp(_ x: Float16x) -> Float16x {
    // Written with lane-wise min/max and bit casts only: the generic SIMD conversions
    // (`clamped`, `init(_:rounding:)`) are not inlined and cost more than the polynomial.
    let tooSmall = x .< -87.3
    var v = vmin(vmax(x, Float16x(repeating: -87.3)), Float16x(repeating: 88.7))
    // Round v·log2(e) to the nearest integer by adding 1.5·2^23: the integer lands in the low
    // mantissa bits, so n's float value and its int32 bits both fall out without a conversion.
    let magic = Float16x(repeating: 12_582_912)
    let shifted = v * 1.44269504088896341 + magic
    let n = shifted - magic
    v = v - n * 0.693359375
    v = v - n * -2.12194440e-4
    var p = Float16x(repeating: 1.9875691500e-4)
    p = p * v + 1.3981999507e-3
    p = p * v + 8.3334519073e-3
    p = p * v + 4.1665795894e-2
    p = p * v + 1.6666665459e-1
    p = p * v + 5.0000001201e-1
    p = p * (v * v) + v + 1
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Float16x.self)
    return (p * scale).replacing(with: 0, where: tooSmall)
}

/// Lane-wise max / min as one compare and one blend. The standard library's `pointwiseMax` handles
/// NaN lane by lane in scalar code, which made softmax three times slower.
@inline(__always)
public func vmax(_ a: Float16x, _ b: Float16x) -> Float16x { a.replacing(with: b, where: b .> a) }
@inline(__always)
public func vmin(_ a: Float16x, _ b: Float16x) -> Float16x { a.replacing(with: b, where: b .< a) }

/// erf(x) by Abramowitz & Stegun 7.1.26: 1.5e-7 in exact arithmetic, 4.7e-7 measured in float32
/// (GELU error below 1e-6 · |x|, far inside the 1e-4 parity budget).
@inline(__always)
public func verf(_ x: Float16x) -> Float16x {
    let ax = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Float16x.self)
    let t = 1 / (1 + 0.3275911 * ax)
    var poly = Float16x(repeating: 1.061405429)
    poly = poly * t - 1.453152027
    poly = poly * t + 1.421413741
    poly = poly * t - 0.284496736
    poly = poly * t + 0.254829592
    poly = poly * t
    let y = 1 - poly * vexp(0 - ax * ax)
    return y.replacing(with: 0 - y, where: x .< 0)
}

/// Applies a 16-lane function to n floats; the tail is padded with zeros so that every element
/// goes through the same code path (results do not depend on where an element sits).
@inline(__always)
package func mapVector(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
    _ f: (Float16x) -> Float16x
) {
    var i = 0
    while i + 16 <= n {
        let v = UnsafeRawPointer(src + i).loadUnaligned(as: Float16x.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f(v), as: Float16x.self)
        i += 16
    }
    if i < n {
        var v = Float16x(repeating: 0)
        for j in 0..<(n - i) { v[j] = src[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { dst[i + j] = r[j] }
    }
}
