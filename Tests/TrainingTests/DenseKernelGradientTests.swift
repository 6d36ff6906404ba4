import XCTest
@testable import Training
import Tensor

/// Finite-difference checks of the linear, LayerNorm, GELU, residual and L2-normalise kernels.
final class DenseKernelGradientTests: XCTestCase {
    func testLinear() {
        var rng = TestRandom(1)
        let n = 5, i = 7, o = 4
        let x = rng.array(n * i), w = rng.array(o * i), b = rng.array(o), dout = rng.array(n * o)
        let got = withBuffers([x, w, b, dout, [Float](repeating: 0, count: n * o),
                               [Float](repeating: 0.5, count: n * i), [Float](repeating: 0, count: o * i),
                               [Float](repeating: 0, count: o)]) { p in
            linearForward(out: p[4], x: p[0], weight: p[1], bias: p[2], rows: n, inFeatures: i, outFeatures: o)
            linearBackward(dx: p[5], dweight: p[6], dbias: p[7], dout: p[3], x: p[0], weight: p[1],
                           rows: n, inFeatures: i, outFeatures: o)
        }
        let y = Reference.linear(x.doubles, w.doubles, b.doubles, n: n, i: i, o: o)
        GradientCheck.assertClose(got[4], y, "linear forward")
        // dx was seeded with 0.5 to check that the kernel adds.
        let dx = GradientCheck.numerical(x.doubles) { weightedSum(Reference.linear($0, w.doubles, b.doubles, n: n, i: i, o: o), dout) }
        GradientCheck.assertClose(got[5].map { $0 - 0.5 }, dx, "linear dx")
        let dw = GradientCheck.numerical(w.doubles) { weightedSum(Reference.linear(x.doubles, $0, b.doubles, n: n, i: i, o: o), dout) }
        GradientCheck.assertClose(got[6], dw, "linear dweight")
        let db = GradientCheck.numerical(b.doubles) { weightedSum(Reference.linear(x.doubles, w.doubles, $0, n: n, i: i, o: o), dout) }
        GradientCheck.assertClose(got[7], db, "linear dbias")
    }

    /// Many rows and threads: the split of dx rows and dw rows over workers.
    func testLinearThreaded() {
        var rng = TestRandom(2)
        let n = 70, i = 9, o = 40
        let x = rng.array(n * i), w = rng.array(o * i), dout = rng.array(n * o)
        let zero = { (k: Int) in [Float](repeating: 0, count: k) }
        let saved = Parallel.threads
        Parallel.threads = 1
        let one = withBuffers([x, w, dout, zero(n * i), zero(o * i), zero(o)]) { p in
            linearBackward(dx: p[3], dweight: p[4], dbias: p[5], dout: p[2], x: p[0], weight: p[1], rows: n, inFeatures: i, outFeatures: o)
        }
        Parallel.threads = 3
        let three = withBuffers([x, w, dout, zero(n * i), zero(o * i), zero(o)]) { p in
            linearBackward(dx: p[3], dweight: p[4], dbias: p[5], dout: p[2], x: p[0], weight: p[1], rows: n, inFeatures: i, outFeatures: o)
        }
        Parallel.threads = saved
        for k in 3..<6 { GradientCheck.assertClose(three[k], one[k].doubles, "linear threaded \(k)", tolerance: 1e-6) }
    }

    func testLayerNorm() {
        var rng = TestRandom(3)
        let n = 3, c = 10
        let eps: Float = 1e-5
        let x = rng.array(n * c, scale: 2), w = rng.array(c).map { 1 + 0.3 * $0 }, b = rng.array(c), dout = rng.array(n * c)
        let zero = { (k: Int) in [Float](repeating: 0, count: k) }
        let got = withBuffers([x, w, b, dout, zero(n * c), zero(n), zero(n), zero(n * c), zero(c), zero(c)]) { p in
            layerNormForward(out: p[4], mean: p[5], rstd: p[6], x: p[0], weight: p[1], bias: p[2], rows: n, width: c, eps: eps)
            layerNormBackward(dx: p[7], dweight: p[8], dbias: p[9], dout: p[3], x: p[0], mean: p[5], rstd: p[6],
                              weight: p[1], rows: n, width: c)
        }
        let ref = { (x: [Double], w: [Double], b: [Double]) in Reference.layerNorm(x, w, b, n: n, c: c, eps: Double(eps)) }
        GradientCheck.assertClose(got[4], ref(x.doubles, w.doubles, b.doubles), "layer norm forward")
        GradientCheck.assertClose(got[7], GradientCheck.numerical(x.doubles) { weightedSum(ref($0, w.doubles, b.doubles), dout) }, "layer norm dx")
        GradientCheck.assertClose(got[8], GradientCheck.numerical(w.doubles) { weightedSum(ref(x.doubles, $0, b.doubles), dout) }, "layer norm dweight")
        GradientCheck.assertClose(got[9], GradientCheck.numerical(b.doubles) { weightedSum(ref(x.doubles, w.doubles, $0), dout) }, "layer norm dbias")
    }

    func testGELU() {
        var rng = TestRandom(4)
        let n = 37
        let x = rng.array(n, scale: 4), dout = rng.array(n)
        let got = withBuffers([x, dout, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n)]) { p in
            geluForward(out: p[2], x: p[0], count: n)
            geluBackward(dx: p[3], dout: p[1], x: p[0], count: n)
        }
        GradientCheck.assertClose(got[2], Reference.gelu(x.doubles), "gelu forward", tolerance: 2e-6)
        GradientCheck.assertClose(got[3], GradientCheck.numerical(x.doubles) { weightedSum(Reference.gelu($0), dout) }, "gelu dx")
    }

    func testResidual() {
        var rng = TestRandom(5)
        let a = rng.array(9), b = rng.array(9), dout = rng.array(9)
        let got = withBuffers([a, b, dout, [Float](repeating: 0, count: 9), [Float](repeating: 1, count: 9), [Float](repeating: 0, count: 9)]) { p in
            residualForward(out: p[3], a: p[0], b: p[1], count: 9)
            residualBackward(da: p[4], db: p[5], dout: p[2], count: 9)
        }
        GradientCheck.assertClose(got[3], zip(a, b).map { Double($0 + $1) }, "residual forward")
        GradientCheck.assertClose(got[4].map { $0 - 1 }, dout.doubles, "residual da")
        GradientCheck.assertClose(got[5], dout.doubles, "residual db")
    }

    func testL2Normalize() {
        var rng = TestRandom(6)
        let n = 3, c = 5
        let x = rng.array(n * c), dout = rng.array(n * c)
        let zero = { (k: Int) in [Float](repeating: 0, count: k) }
        let got = withBuffers([x, dout, zero(n * c), zero(n), zero(n * c)]) { p in
            l2NormalizeForward(out: p[2], norms: p[3], x: p[0], rows: n, width: c)
            l2NormalizeBackward(dx: p[4], dout: p[1], out: p[2], norms: p[3], rows: n, width: c)
        }
        GradientCheck.assertClose(got[2], Reference.l2Normalize(x.doubles, n: n, c: c), "l2 normalise forward")
        GradientCheck.assertClose(got[4], GradientCheck.numerical(x.doubles) { weightedSum(Reference.l2Normalize($0, n: n, c: c), dout) }, "l2 normalise dx")
    }
}
