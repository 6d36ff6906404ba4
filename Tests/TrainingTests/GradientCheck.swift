import XCTest
@testable import Training
import Tensor

/// Finite-difference checking in Float64, double-check style: each float32 backward kernel is
/// compared with central differences of a Float64 reference of its forward (step 1e-6, so the
/// truncation error, O(h²), and the rounding error, O(1e-16 / h), are both far below the float32
/// noise of the kernel under test). Error = max |analytic − numeric| / max(max |numeric|, 1e-3).
enum GradientCheck {
    static let tolerance = 1e-4

    /// Central differences of f at x.
    static func numerical(_ x: [Double], step h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
        var probe = x
        return (0..<x.count).map { i in
            probe[i] = x[i] + h; let up = f(probe)
            probe[i] = x[i] - h; let down = f(probe)
            probe[i] = x[i]
            return (up - down) / (2 * h)
        }
    }

    /// Normwise relative error of an analytic gradient against a numerical one; fails above `tolerance`.
    @discardableResult
    static func assertClose(_ analytic: [Float], _ numeric: [Double], _ name: String, tolerance: Double = tolerance,
                            file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(analytic.count, numeric.count, "\(name): sizes", file: file, line: line)
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        var worst = 0.0
        for (a, n) in zip(analytic, numeric) { worst = max(worst, abs(Double(a) - n)) }
        let relative = worst / scale
        XCTAssertLessThanOrEqual(relative, tolerance, "\(name): relative error \(relative)", file: file, line: line)
        print("gradcheck \(name): relative error \(relative)")
        return relative
    }
}

/// A small seeded generator so that the shapes and values of each check are fixed.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    /// Uniform in [-scale, scale].
    mutating func uniform(_ scale: Float = 1) -> Float { (Float(next() >> 40) * 0x1p-24 * 2 - 1) * scale }
    mutating func array(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in uniform(scale) } }
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

/// Σ w_i · y_i in Float64: the scalar whose gradient with respect to y is w (the upstream gradient).
func weightedSum(_ y: [Double], _ w: [Float]) -> Double {
    zip(y, w).reduce(0) { $0 + $1.0 * Double($1.1) }
}

/// Runs body with mutable pointers to copies of the arrays and returns the copies.
func withBuffers(_ arrays: [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> Void) -> [[Float]] {
    let buffers = arrays.map { a -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(a.count, 1))
        p.initialize(repeating: 0, count: Swift.max(a.count, 1))
        a.withUnsafeBufferPointer { if let base = $0.baseAddress { p.update(from: base, count: a.count) } }
        return p
    }
    body(buffers)
    let out = zip(buffers, arrays).map { Array(UnsafeBufferPointer(start: $0.0, count: $0.1.count)) }
    buffers.forEach { $0.deallocate() }
    return out
}
