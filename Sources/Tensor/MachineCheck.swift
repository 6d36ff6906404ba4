import Dispatch
import Foundation

/// What `capfilt doctor` reports: the CPU, the kernel paths chosen for it, and two measurements:
/// the engine's own matrix product (the row-split sgemm every large layer uses) and the machine's
/// multiply-add peak on the same threads, measured rather than looked up.
public struct MachineCheck: Sendable {
    public let cpu: CPUInfo
    public let elementwisePath: KernelPath
    public let blas: Result<BLAS.Status, BLAS.LoadError>
    public let threads: Int
    /// The probe's product: C[m, n] = A[m, k] · B[n, k]ᵀ, as `linear` runs it.
    public let probeShape: (m: Int, n: Int, k: Int)
    public let probeSeconds: Double
    /// The fastest single product of the probe (comparable with a peer's best-of-N timing).
    public let probeGFLOPS: Double
    /// All products of the probe together: the rate sustained over `probeSeconds`.
    public let probeSustainedGFLOPS: Double
    /// Sum over `threads` workers of the widest multiply-add loop the kernel path has.
    public let peakGFLOPS: Double

    public var peakFraction: Double { peakGFLOPS > 0 ? probeGFLOPS / peakGFLOPS : 0 }

    /// Runs the probe for about `seconds` on `threads` workers.
    public static func run(threads: Int, seconds: Double = 2, size: Int = 1536) -> MachineCheck {
        setEngineThreads(threads)
        let blas = BLAS.status
        var probe = (seconds: 0.0, best: 0.0, sustained: 0.0)
        if case .success = blas {
            probe = sgemmProbe(size: size, seconds: seconds)
        }
        return MachineCheck(cpu: .current, elementwisePath: Kernels.path, blas: blas, threads: threads,
                            probeShape: (size, size, size), probeSeconds: probe.seconds, probeGFLOPS: probe.best,
                            probeSustainedGFLOPS: probe.sustained, peakGFLOPS: peak(threads: threads) / 1e9)
    }

    /// Repeats a size³ product for `seconds` (after one warm-up): the seconds, the fastest
    /// product's GFLOP/s and the sustained GFLOP/s.
    static func sgemmProbe(size n: Int, seconds: Double) -> (seconds: Double, best: Double, sustained: Double) {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), out = Tensor(shape: [n, n])
        for i in 0..<a.count { a[flat: i] = Float(i % 13) * 0.01 - 0.06; b[flat: i] = Float(i % 7) * 0.01 - 0.03 }
        linear(a, weight: b, bias: nil, out: out)
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0, products = 0, fastest = Double.infinity
        let flops = 2 * Double(n * n * n)
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            linear(a, weight: b, bias: nil, out: out)
            let t1 = DispatchTime.now().uptimeNanoseconds
            fastest = min(fastest, Double(t1 - t0) / 1e9)
            products += 1
            elapsed = Double(t1 - start) / 1e9
        } while elapsed < seconds
        return (elapsed, flops / fastest / 1e9, flops * Double(products) / elapsed / 1e9)
    }

    /// FLOP/s of the multiply-add loop run on `threads` threads at once: the best of five short
    /// trials, since anything else running (a neighbour on a shared host) can only lower it.
    static func peak(threads: Int) -> Double {
        let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        let box = UncheckedSendable(rates)
        var best = 0.0
        for _ in 0..<5 {
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                box.value[t] = Kernels.measurePeakFlops(seconds: 0.1)
            }
            best = max(best, rates.reduce(0, +))
        }
        return best
    }

    /// The report as lines of text.
    public var lines: [String] {
        var out: [String] = []
        out.append("CPU:        \(cpu.brand) (\(cpu.vendor), family \(cpu.family), model \(cpu.model), stepping \(cpu.stepping))")
        out.append("features:   \(cpu.features.joined(separator: " "))")
        let supported = KernelPath.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")
        out.append("kernels:    \(elementwisePath.rawValue) (\(Kernels.nativeLanes(elementwisePath)) floats a register; this CPU runs: \(supported))")
        switch blas {
        case .success(let s):
            let asked: String
            if let env = s.environmentCore { asked = "\(env) from OPENBLAS_CORETYPE" }
            else if let chosen = s.chosenCore { asked = "\(chosen), chosen from CPUID" }
            else { asked = "nothing (the library's own detection)" }
            out.append("products:   OpenBLAS, \(s.runningCore) kernels (asked for \(asked))\(s.runsRequestedCore ? "" : " -- NOT what was asked")")
            out.append("            \(s.library): \(s.configuration)")
        case .failure(let e):
            out.append("products:   unavailable: \(e.description)")
        }
        out.append("bf16:       \(BF16Products.active.rawValue) products: \(BF16Products.reason)")
        out.append("threads:    \(threads) engine workers, OpenBLAS single-threaded inside each")
        if probeGFLOPS > 0 {
            out.append(String(format: "sgemm:      %.1f GFLOP/s fastest product, %.1f sustained (%d x %d x %d, %.1f s)",
                              probeGFLOPS, probeSustainedGFLOPS, probeShape.m, probeShape.n, probeShape.k, probeSeconds))
        }
        out.append(String(format: "peak:       %.1f GFLOP/s measured (%@ multiply-add loop on %d threads); the fastest product reaches %.0f%%",
                          peakGFLOPS, elementwisePath.rawValue, threads, peakFraction * 100))
        return out
    }
}
