internal import CKernels
import Foundation

/// What this processor is and which vector extensions it and the operating system support,
/// read once from CPUID and XGETBV (not from a table of model numbers).
public struct CPUInfo: Sendable {
    public let vendor: String
    public let brand: String
    public let family: Int
    public let model: Int
    public let stepping: Int
    /// Feature names as Linux's /proc/cpuinfo spells them (avx2, fma, avx512f, avx512_bf16, ...).
    public let features: [String]

    public func has(_ feature: String) -> Bool { features.contains(feature) }

    public static let current = CPUInfo(CPUFeatures.raw)

    public init(vendor: String, brand: String, family: Int, model: Int, stepping: Int, features: [String]) {
        self.vendor = vendor; self.brand = brand; self.family = family; self.model = model
        self.stepping = stepping; self.features = features
    }

    init(_ f: ck_cpu_features) {
        var copy = f
        vendor = withUnsafeBytes(of: &copy.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let b = withUnsafeBytes(of: &copy.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        brand = b.isEmpty ? "unknown" : b
        family = Int(f.family); model = Int(f.model); stepping = Int(f.stepping)
        let flags: [(String, Int32)] = [
            ("sse2", f.sse2), ("sse4_1", f.sse41), ("sse4_2", f.sse42), ("avx", f.avx), ("avx2", f.avx2),
            ("fma", f.fma), ("f16c", f.f16c), ("avx512f", f.avx512f), ("avx512bw", f.avx512bw),
            ("avx512dq", f.avx512dq), ("avx512vl", f.avx512vl), ("avx512cd", f.avx512cd),
            ("avx512_vnni", f.avx512_vnni), ("avx512_bf16", f.avx512_bf16), ("avx512_fp16", f.avx512_fp16),
            ("avx_vnni", f.avx_vnni), ("amx_bf16", f.amx_bf16),
        ]
        features = flags.filter { $0.1 != 0 }.map(\.0)
    }
}

enum CPUFeatures {
    static let raw: ck_cpu_features = {
        var f = ck_cpu_features()
        ck_read_cpu_features(&f)
        return f
    }()
}

/// The instruction-set paths the element-wise and decoding kernels are compiled for.
public enum KernelPath: String, CaseIterable, Sendable {
    case baseline, avx2, avx512

    var c: ck_path {
        switch self {
        case .baseline: CK_PATH_BASELINE
        case .avx2: CK_PATH_AVX2
        case .avx512: CK_PATH_AVX512
        }
    }

    /// Whether this CPU (and its operating system) can run the path.
    public var isSupported: Bool {
        var f = CPUFeatures.raw
        return ck_path_supported(&f, c) != 0
    }

    /// The widest path this CPU supports.
    public static var best: KernelPath {
        var f = CPUFeatures.raw
        return KernelPath(rawValue: String(cString: ck_path_name(ck_best_path(&f)))) ?? .baseline
    }
}

/// The kernel table the engine calls: the widest path the CPU supports, or the one named by
/// `CAPFILT_KERNELS` (baseline, avx2, avx512) for comparisons; a path the CPU lacks is refused
/// there and the best one is used instead, with a note on standard error.
public enum Kernels {
    public static let path: KernelPath = {
        guard let name = ProcessInfo.processInfo.environment["CAPFILT_KERNELS"], !name.isEmpty else { return .best }
        guard let requested = KernelPath(rawValue: name.lowercased()) else {
            FileHandle.standardError.write(Data("capfilt: CAPFILT_KERNELS=\(name) is not one of \(KernelPath.allCases.map(\.rawValue).joined(separator: ", ")); using \(KernelPath.best.rawValue)\n".utf8))
            return .best
        }
        guard requested.isSupported else {
            FileHandle.standardError.write(Data("capfilt: CAPFILT_KERNELS=\(name): this CPU cannot run it; using \(KernelPath.best.rawValue)\n".utf8))
            return .best
        }
        return requested
    }()

    /// The active table (`path`).
    static let active: ck_kernels = table(path)

    static func table(_ path: KernelPath) -> ck_kernels { ck_kernels_for(path.c).pointee }

    /// Float lanes of one register on a path (4, 8 or 16).
    public static func nativeLanes(_ path: KernelPath) -> Int { Int(table(path).native_lanes) }

    /// Floating-point operations per second one core sustains on `path`'s widest multiply-add,
    /// measured over about `seconds` (the machine's peak is this times the cores in use).
    public static func measurePeakFlops(path: KernelPath = Kernels.path, seconds: Double = 0.25) -> Double {
        let k = table(path)
        var iterations = 1 << 20
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            let flops = k.fma_peak(iterations)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed >= seconds { return flops / elapsed }
            iterations = elapsed < seconds / 16 ? iterations * 8 : Int(Double(iterations) * seconds / elapsed * 1.05) + 1
        }
    }
}
