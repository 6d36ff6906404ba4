internal import CBLAS
import Foundation

/// The one place that calls OpenBLAS. Every large matrix product in the engine goes through `gemm`.
///
/// Which kernels OpenBLAS runs is capfilt's choice, made from CPUID features before the library
/// loads (`coreType(for:)`): a DYNAMIC_ARCH OpenBLAS otherwise picks by CPU model number, and a
/// model newer than the library (Debian 12's 0.3.21 on Sapphire Rapids) falls back to its SSE3
/// `Prescott` kernels, a fifth of the speed. `OPENBLAS_CORETYPE` set by the user wins.
///
/// Threading: the engine has ONE pool of workers (`Parallel`). OpenBLAS runs single-threaded
/// inside each worker, and the engine splits products itself (rows of a large product, blocks of
/// attention). Two pools on the same cores fight: OpenBLAS's idle threads spin in sched_yield
/// while the element-wise workers wait for a core, which profiling showed as ~20% of the time.
public enum BLAS {
    /// What was asked of OpenBLAS and what it runs.
    public struct Status: Sendable {
        /// The file loaded.
        public let library: String
        /// The core type capfilt chose from CPUID (nil: none fits, the library decides).
        public let chosenCore: String?
        /// OPENBLAS_CORETYPE as found in the environment (it overrides the choice).
        public let environmentCore: String?
        /// The kernels the library reports it runs (`openblas_get_corename`).
        public let runningCore: String
        /// `openblas_get_config()`.
        public let configuration: String

        /// The core the library was asked for, from the environment or from CPUID.
        public var requestedCore: String? { environmentCore ?? chosenCore }
        /// Whether the library runs what it was asked for.
        public var runsRequestedCore: Bool {
            guard let requested = requestedCore else { return true }
            return requested.caseInsensitiveCompare(runningCore) == .orderedSame
        }
    }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// OpenBLAS's kernel family for a CPU, from its features alone: the widest vector path the
    /// features allow. AMD processors with AVX2 but not AVX-512 get `Zen` (Haswell's kernels with
    /// blocking sizes for Zen caches).
    public static func coreType(for cpu: CPUInfo) -> String? {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpu.has) { return "SkylakeX" }
        if cpu.has("avx2") && cpu.has("fma") {
            return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell"
        }
        if cpu.has("avx") { return "Sandybridge" }
        if cpu.has("sse4_2") { return "Nehalem" }
        return nil
    }

    /// Loads OpenBLAS (once) with the core type chosen for this CPU. `CAPFILT_OPENBLAS` names
    /// another library file.
    public static let status: Result<Status, LoadError> = {
        let environment = ProcessInfo.processInfo.environment
        let fromEnvironment = environment["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 }
        let chosen = coreType(for: .current)
        var message = [CChar](repeating: 0, count: 512)
        let rc = capfilt_blas_load(environment["CAPFILT_OPENBLAS"], chosen, &message, Int32(message.count))
        guard rc == 0 else {
            return .failure(LoadError(description: String(cString: message)))
        }
        return .success(Status(
            library: String(cString: capfilt_blas_path()), chosenCore: chosen, environmentCore: fromEnvironment,
            runningCore: String(cString: capfilt_blas_corename()).trimmingCharacters(in: .whitespaces),
            configuration: String(cString: capfilt_blas_config()).trimmingCharacters(in: .whitespaces)))
    }()

    /// Loads OpenBLAS now, or throws why it cannot be loaded (commands call this before any model
    /// work, so a missing library is one clear line rather than an abort mid-run).
    public static func load() throws {
        if case .failure(let error) = status { throw error }
    }

    /// Threads OpenBLAS itself uses for one product (kept at 1 by `setEngineThreads`).
    /// Without a library there is nothing to set: the first product then stops the process
    /// with the load error.
    public static var threads: Int {
        get {
            guard case .success = status else { return 1 }
            return Int(capfilt_blas_get_threads())
        }
        set {
            guard case .success = status else { return }
            capfilt_blas_set_threads(Int32(max(1, newValue)))
        }
    }

    /// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, with explicit leading dims.
    /// op(A) = A [M,K] (lda >= K) or A^T where A is [K,M] (lda >= M); likewise for B.
    @inline(__always)
    package static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        capfilt_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                      b, Int32(ldb), beta, c, Int32(ldc))
    }
}
