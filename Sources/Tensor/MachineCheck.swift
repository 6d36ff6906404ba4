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
    public let probeGFLOPS: Double
    /// Sum over `threads` workers of the widest multiply-add loop the kernel path has.
    public let peakGFLOPS: Double

    public var peakFraction: Double { peakGFLOPS > 0 ? probeGFLOPS / peakGFLOPS : 0 }

    /// Runs the probe for about `seconds` on `threads` workers.
    public static func run(threads: Int, seconds: Double = 2, size: Int = 1536) -> MachineCheck {
        setEngineThreads(threads)
        let blas = BLAS.status
        var probeSeconds = 0.0, gflops = 0.0
        if case .success = blas {
            (probeSeconds, gflops) = sgemmProbe(size: size, seconds: seconds)
        }
        return MachineCheck(cpu: .current, elementwisePath: Kernels.path, blas: blas, threads: threads,
                            probeShape: (size, size, size), probeSeconds: probeSeconds, probeGFLOPS: gflops,
                            peakGFLOPS: peak(threads: threads) / 1e9)
    }

    /// Repeats a size³ product for `seconds` (after one warm-up) and returns the sustained rate.
    static func sgemmProbe(size n: Int, seconds: Double) -> (Double, Double) {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), out = Tensor(shape: [n, n])
        for i in 0..<a.count { a[flat: i] = Float(i % 13) * 0.01 - 0.06; b[flat: i] = Float(i % 7) * 0.01 - 0.03 }
        linear(a, weight: b, bias: nil, out: out)
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0, products = 0
        repeat {
            linear(a, weight: b, bias: nil, out: out)
            products += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return (elapsed, 2 * Double(n * n * n) * Double(products) / elapsed / 1e9)
    }

    /// FLOP/s of the multiply-add loop run on `threads` threads at once.
    static func peak(threads: Int) -> Double {
        let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        let box = UncheckedSendable(rates)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            box.value[t] = Kernels.measurePeakFlops(seconds: 0.3)
        }
        return rates.reduce(0, +)
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
        out.append("threads:    \(threads) engine workers, OpenBLAS single-threaded inside each")
        if probeGFLOPS > 0 {
            out.append(String(format: "sgemm:      %.1f GFLOP/s (%d x %d x %d, %.1f s)", probeGFLOPS,
                              probeShape.m, probeShape.n, probeShape.k, probeSeconds))
        }
        out.append(String(format: "peak:       %.1f GFLOP/s measured (%@ multiply-add loop on %d threads); sgemm reaches %.0f%%",
                          peakGFLOPS, elementwisePath.rawValue, threads, peakFraction * 100))
        return out
    }
}
