import XCTest
@testable import Training

/// Finite-difference checks of the text and vision embeddings and the patch embedding.
final class EmbeddingGradientTests: XCTestCase {
    func testTextEmbedding() {
        var rng = TestRandom(21)
        let v = 6, c = 3, t = 4, positions = 5
        let ids = [2, 5, 2, 0, 1, 2, 3, 2]   // two sequences, repeated ids accumulate
        let word = rng.array(v * c), pos = rng.array(positions * c), dout = rng.array(ids.count * c)
        let got = withBuffers([word, pos, dout, [Float](repeating: 0, count: ids.count * c),
                               [Float](repeating: 0, count: v * c), [Float](repeating: 0, count: positions * c)]) { p in
            textEmbeddingForward(out: p[3], ids: ids, tokensPerSequence: t, word: p[0], position: p[1], width: c)
            textEmbeddingBackward(dword: p[4], dposition: p[5], dout: p[2], ids: ids, tokensPerSequence: t, width: c)
        }
        func ref(_ w: [Double], _ p: [Double]) -> [Double] {
            var out = [Double]()
            for (r, id) in ids.enumerated() { for j in 0..<c { out.append(w[id * c + j] + p[(r % t) * c + j]) } }
            return out
        }
        GradientCheck.assertClose(got[3], ref(word.doubles, pos.doubles), "text embedding forward")
        GradientCheck.assertClose(got[4], GradientCheck.numerical(word.doubles) { weightedSum(ref($0, pos.doubles), dout) }, "text embedding dword")
        GradientCheck.assertClose(got[5], GradientCheck.numerical(pos.doubles) { weightedSum(ref(word.doubles, $0), dout) }, "text embedding dposition")
    }

    func testVisionEmbedding() {
        var rng = TestRandom(22)
        let b = 2, n = 3, c = 4
        let patches = rng.array(b * n * c), cls = rng.array(c), pos = rng.array((n + 1) * c), dout = rng.array(b * (n + 1) * c)
        let zero = { (k: Int) in [Float](repeating: 0, count: k) }
        let got = withBuffers([patches, cls, pos, dout, zero(b * (n + 1) * c), zero(b * n * c), zero(c), zero((n + 1) * c)]) { p in
            visionEmbeddingForward(out: p[4], patches: p[0], classToken: p[1], position: p[2], images: b, patchesPerImage: n, width: c)
            visionEmbeddingBackward(dpatches: p[5], dclassToken: p[6], dposition: p[7], dout: p[3], images: b, patchesPerImage: n, width: c)
        }
        func ref(_ x: [Double], _ k: [Double], _ p: [Double]) -> [Double] {
            var out = [Double]()
            for bi in 0..<b {
                for j in 0..<c { out.append(k[j] + p[j]) }
                for r in 0..<n { for j in 0..<c { out.append(x[(bi * n + r) * c + j] + p[(r + 1) * c + j]) } }
            }
            return out
        }
        let (x0, k0, p0) = (patches.doubles, cls.doubles, pos.doubles)
        GradientCheck.assertClose(got[4], ref(x0, k0, p0), "vision embedding forward")
        GradientCheck.assertClose(got[5], GradientCheck.numerical(x0) { weightedSum(ref($0, k0, p0), dout) }, "vision embedding dpatches")
        GradientCheck.assertClose(got[6], GradientCheck.numerical(k0) { weightedSum(ref(x0, $0, p0), dout) }, "vision embedding dclass")
        GradientCheck.assertClose(got[7], GradientCheck.numerical(p0) { weightedSum(ref(x0, k0, $0), dout) }, "vision embedding dposition")
    }

    /// The patch embedding as im2col + linear against a direct strided convolution in Float64.
    func testPatchEmbedding() {
        var rng = TestRandom(23)
        let b = 2, s = 4, patch = 2, g = s / patch, k = 3 * patch * patch, c = 3
        let pixels = rng.array(b * 3 * s * s), w = rng.array(c * k), bias = rng.array(c), dout = rng.array(b * g * g * c)
        let zero = { (n: Int) in [Float](repeating: 0, count: n) }
        let got = withBuffers([pixels, w, bias, dout, zero(b * g * g * k), zero(b * g * g * c), zero(c * k), zero(c),
                               zero(b * g * g * k), zero(pixels.count)]) { p in
            im2col(patches: p[4], pixels: p[0], images: b, size: s, patch: patch)
            linearForward(out: p[5], x: p[4], weight: p[1], bias: p[2], rows: b * g * g, inFeatures: k, outFeatures: c)
            linearBackward(dx: p[8], dweight: p[6], dbias: p[7], dout: p[3], x: p[4], weight: p[1], rows: b * g * g, inFeatures: k, outFeatures: c)
            col2im(dpixels: p[9], dpatches: p[8], images: b, size: s, patch: patch)
        }
        // Conv2d(3, C, kernel P, stride P), output laid out [B, G, G, C] (the ViT's token order).
        func conv(_ x: [Double], _ w: [Double], _ bb: [Double]) -> [Double] {
            var out = [Double]()
            for bi in 0..<b { for py in 0..<g { for px in 0..<g { for o in 0..<c {
                var acc = bb[o]
                for ch in 0..<3 { for ky in 0..<patch { for kx in 0..<patch {
                    acc += w[((o * 3 + ch) * patch + ky) * patch + kx] * x[((bi * 3 + ch) * s + py * patch + ky) * s + px * patch + kx]
                } } }
                out.append(acc)
            } } } }
            return out
        }
        let (x0, w0, b0) = (pixels.doubles, w.doubles, bias.doubles)
        GradientCheck.assertClose(got[5], conv(x0, w0, b0), "patch embedding forward")
        GradientCheck.assertClose(got[6], GradientCheck.numerical(w0) { weightedSum(conv(x0, $0, b0), dout) }, "patch embedding dweight")
        GradientCheck.assertClose(got[7], GradientCheck.numerical(b0) { weightedSum(conv(x0, w0, $0), dout) }, "patch embedding dbias")
        GradientCheck.assertClose(got[9], GradientCheck.numerical(x0) { weightedSum(conv($0, w0, b0), dout) }, "patch embedding dpixels")
    }
}
