internal import CKernels
import Foundation

/// How a product of many rows with bfloat16 weights is computed.
///   - `avx512BF16`: vdpbf16ps (AVX512_BF16): the activations are rounded to bf16 and every pair
///     of products is added to a float32 sum in one instruction, twice the multiply-adds of a
///     float32 FMA. Used only where the CPU has it and, at first use, agrees with the emulation
///     on a test product (the same bits, or within the rounding of float32 sums).
///   - `widened`: the weights are widened to float32 a tile at a time and OpenBLAS's sgemm runs
///     (every other CPU; the activations stay float32).
///   - `emulated`: the vdpbf16ps arithmetic in portable C, bit for bit: for tests on any CPU.
/// `CAPFILT_BF16_PRODUCTS=widened` picks the widened products on an AVX512_BF16 CPU, for
/// comparisons; `CAPFILT_BF16_PRODUCTS=emulated` the emulation on any CPU, to measure what the
/// rounded activations do to a model's outputs (docs/med.md).
public enum BF16Products: String, Sendable, CaseIterable {
    case avx512BF16 = "avx512_bf16"
    case widened
    case emulated

    /// What this process uses.
    public static var active: BF16Products {
        if let override, override != .avx512BF16 || nativeAvailable { return override }
        return chosen
    }

    /// Whether this CPU can run `avx512BF16` (whatever `active` chose): AVX512_BF16 with the
    /// AVX-512 path (F/BW/DQ/VL, and the operating system saving the registers).
    public static let nativeAvailable = CPUInfo.current.has("avx512_bf16") && KernelPath.avx512.isSupported

    /// Set by tests to run a path on any CPU (`avx512BF16` is ignored where the CPU lacks it).
    nonisolated(unsafe) package static var override: BF16Products?

    /// Why `chosen` is what it is, for `capfilt doctor`.
    public static var reason: String { choice.reason }

    static var chosen: BF16Products { choice.products }

    private static let choice: (products: BF16Products, reason: String) = {
        let requested = ProcessInfo.processInfo.environment["CAPFILT_BF16_PRODUCTS"].map { $0.lowercased() }
        if let requested, !requested.isEmpty, requested != BF16Products.widened.rawValue, requested != BF16Products.emulated.rawValue {
            FileHandle.standardError.write(Data("capfilt: CAPFILT_BF16_PRODUCTS=\(requested) is not one of widened, emulated; ignored\n".utf8))
        }
        if requested == BF16Products.emulated.rawValue {
            return (.emulated, "CAPFILT_BF16_PRODUCTS=emulated: vdpbf16ps's arithmetic in portable C (slow; for measuring its agreement)")
        }
        guard nativeAvailable else {
            return (.widened, "this CPU has no AVX512_BF16: bf16 weights are widened to float32 for sgemm")
        }
        if requested == BF16Products.widened.rawValue {
            return (.widened, "CAPFILT_BF16_PRODUCTS=widened: bf16 weights are widened to float32 for sgemm")
        }
        switch selfCheck() {
        case .mismatch(let what):
            let note = "capfilt: vdpbf16ps disagrees with its emulation (\(what)); bf16 weights are widened to float32 instead\n"
            FileHandle.standardError.write(Data(note.utf8))
            return (.widened, "vdpbf16ps failed its check (\(what)): bf16 weights are widened to float32")
        case .withinRounding(let worst):
            return (.avx512BF16, "vdpbf16ps (AVX512_BF16); it rounds its sums otherwise than the emulation, within \(worst) of the rounding bound on a test product")
        case .bitForBit:
            return (.avx512BF16, "vdpbf16ps (AVX512_BF16), the same bits as its emulation on a test product")
        }
    }()

    /// How a native product compares with the emulation.
    package enum Agreement: Equatable {
        case bitForBit
        /// Not the same bits, but every difference within the rounding bound (`worst` is the
        /// largest difference as a share of it): the CPU adds the pair otherwise, and the
        /// measurements made with the emulation hold to rounding.
        case withinRounding(worst: Double)
        case mismatch(String)
    }

    /// The largest difference two float32 evaluations of out = Σ_k x·w + bias may show when
    /// each rounds every addition once: 2 (k + 2) half-ulps of Σ |terms|.
    package static func roundingBound(inputs k: Int, absoluteSum: Double) -> Double {
        2 * Double(k + 2) * absoluteSum * 0x1p-24
    }

    /// Compares `native` with `emulated` element by element; `absoluteSums` [n] = Σ |x·w| + |bias|.
    package static func agreement(native: [Float], emulated: [Float], absoluteSums: [Double], inputs k: Int) -> Agreement {
        var worst = 0.0, first: Int?, differs = false
        for i in native.indices where native[i].bitPattern != emulated[i].bitPattern {
            let bound = roundingBound(inputs: k, absoluteSum: absoluteSums[i])
            let share = bound > 0 ? Double(abs(native[i] - emulated[i])) / bound : .infinity
            if share > 1 || !native[i].isFinite { first = first ?? i }
            worst = max(worst, share)
            differs = true
        }
        if let i = first { return .mismatch("element \(i): \(native[i]) against \(emulated[i])") }
        return differs ? .withinRounding(worst: (worst * 100).rounded() / 100) : .bitForBit
    }

    /// Runs a product with tails in every dimension on both builds.
    static func selfCheck() -> Agreement {
        let rows = 13, k = 45, cols = 70
        var state: UInt32 = 12345
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23)
        }
        let x = (0..<(rows * k)).map { _ in next() }
        let w = (0..<(cols * k)).map { _ in ck_round_bf16(next()) }
        let bias = (0..<cols).map { _ in next() }
        var native = [Float](repeating: 0, count: rows * cols), emulated = native
        let packed = UnsafeMutablePointer<UInt16>.allocate(capacity: Int(ck_bf16_panels_count(k, cols)))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: Int(ck_gemm_bf16_scratch_bytes(k)), alignment: 64)
        defer { packed.deallocate(); scratch.deallocate() }
        ck_bf16_pack_panels(w, k, cols, 0, (cols + 31) / 32, packed)
        ck_gemm_bf16_packed_avx512bf16(x, rows, k, packed, cols, bias, &native, cols, scratch)
        ck_gemm_bf16_packed_emulated(x, rows, k, packed, cols, bias, &emulated, cols, scratch)
        func widen(_ h: UInt16) -> Double { Double(Float(bitPattern: UInt32(h) << 16)) }
        var sums = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                var total = Double(abs(bias[c]))
                for j in 0..<k { total += abs(widen(ck_round_bf16(x[r * k + j])) * widen(w[c * k + j])) }
                sums[r * cols + c] = total
            }
        }
        return agreement(native: native, emulated: emulated, absoluteSums: sums, inputs: k)
    }
}

/// out [N, O] (row stride ldOut) = bf16(x) [N, I] · weight [O, I]ᵀ + bias with `products`
/// (`avx512BF16` or `emulated`). The weights are packed into panels of 32 output columns, a
/// tile of at most `bf16WidenTileBytes / 2` at a time by all workers, into the calling
/// thread's second scratch buffer (reused from call to call); then the rows are split
/// over the workers, each packing its rows to bf16 in its own scratch (one block of
/// `ck_gemm_bf16_block_rows` rows at a time, re-read for every panel).
func linearBF16Packed(
    _ x: UnsafePointer<Float>, rows n: Int, inFeatures i: Int,
    weight: UnsafePointer<UInt16>, bias: UnsafePointer<Float>?, outFeatures o: Int,
    out: UnsafeMutablePointer<Float>, ldOut: Int, products: BF16Products
) {
    precondition(products != .widened, "linearBF16Packed: widened products go through sgemm")
    let pairs = (i + 1) / 2, panelValues = pairs * 64
    let panels = (o + 31) / 32
    let tilePanels = min(panels, max(1, bf16WidenTileBytes / 2 / (panelValues * 2)))
    // The calling thread's second scratch slot: its first holds rows when it works as a worker.
    guard let raw = ck_thread_scratch_slot(1, UInt(tilePanels * panelValues * 2)) else {
        preconditionFailure("out of memory packing bf16 weights")
    }
    let packedBox = UncheckedSendable(raw.bindMemory(to: UInt16.self, capacity: tilePanels * panelValues))
    let scratchBytes = ck_gemm_bf16_scratch_bytes(i)
    // Rows per worker in whole tiles of 6, so that only the last worker has a partial tile.
    let workers = max(1, min(Parallel.threads, n / 6))
    let chunk = ((n + workers - 1) / workers + 5) / 6 * 6
    var p0 = 0
    while p0 < panels {
        let p1 = min(panels, p0 + tilePanels)
        let c0 = p0 * 32, cols = min(o, p1 * 32) - c0
        Parallel.forRanges(p1 - p0, costPerItem: panelValues) { ps in
            ck_bf16_pack_panels(weight + c0 * i, i, cols, ps.lowerBound, ps.upperBound, packedBox.value)
        }
        Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
            guard let scratch = ck_thread_scratch(scratchBytes) else { preconditionFailure("out of memory for bf16 products") }
            for w in ws {
                let lo = w * chunk, hi = min(n, lo + chunk)
                if lo >= hi { continue }
                let b = bias.map { $0 + c0 }
                if products == .avx512BF16 {
                    ck_gemm_bf16_packed_avx512bf16(x + lo * i, hi - lo, i, packedBox.value, cols, b, out + lo * ldOut + c0, ldOut, scratch)
                } else {
                    ck_gemm_bf16_packed_emulated(x + lo * i, hi - lo, i, packedBox.value, cols, b, out + lo * ldOut + c0, ldOut, scratch)
                }
            }
        }
        p0 = p1
    }
}
