// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric modules want the optimiser to see through bounds checks in the
// innermost loops. No instruction set is assumed beyond the x86-64-v2 floor (SSE4.2 and POPCNT,
// every x86-64 server CPU since 2009; swiftc names that level `nehalem`, its first CPU): the
// vector kernels that need AVX2 or AVX-512 live in CKernels, compiled once per instruction set
// and chosen at run time from CPUID, so one binary is fast everywhere.
var releaseKernelFlags = ["-Ounchecked", "-wmo"]
#if arch(x86_64)
releaseKernelFlags += ["-target-cpu", "nehalem"]
#endif
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(releaseKernelFlags, .when(configuration: .release)),
]
// The numeric modules (Tensor, MED, Imaging) are optimised in debug builds too: unoptimised
// SIMD code and per-token logits processing are 10-100x slower, which would make the parity and
// pipeline tests crawl; bounds checks stay on in debug (-O, not -Ounchecked).
let numericFlags: [SwiftSetting] = kernelFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "capfilt",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "capfilt", targets: ["capfilt"]),
        .library(name: "MED", targets: ["MED"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Catalog", targets: ["Catalog"]),
        .library(name: "Export", targets: ["Export"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries: one C module each, imported by exactly one Swift module.
        // OpenBLAS is opened at run time (dlopen), after capfilt has chosen its kernels from CPUID.
        .target(name: "CBLAS", path: "Sources/CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // The element-wise and decoding kernels: one source, one object per instruction set, chosen
        // at run time. Optimised in debug builds too, as the numeric Swift modules are.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])],
                linkerSettings: [.linkedLibrary("m")]),
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png")]),
        .target(name: "CWebP", path: "Sources/CWebP", linkerSettings: [.linkedLibrary("webp")]),
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // The SHA-256 block rounds, in C so that debug builds still hash at a useful speed.
        .target(name: "CSHA256", path: "Sources/CSHA256"),
        .target(
            name: "CCompression", path: "Sources/CCompression",
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("snappy"), .linkedLibrary("zstd"), .linkedLibrary("lz4"),
                            .linkedLibrary("brotlidec")]),

        // The foundation under every module: hashing, deterministic JSON, durable files, locks,
        // signals. It depends on nothing else in the project.
        .target(name: "Basics", dependencies: ["CSHA256"]),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"], swiftSettings: numericFlags),
        .target(name: "Imaging", dependencies: ["Basics", "CJPEG", "CPNG", "CWebP"], swiftSettings: numericFlags),
        .target(
            name: "MED", dependencies: ["Basics", "Tensor"],
            resources: [.copy("Resources/vocab.txt")],
            swiftSettings: numericFlags),
        .target(name: "Ingest", dependencies: ["Basics", "CCurl", "Compression", "Imaging"]),
        .target(name: "Training", dependencies: ["Basics", "MED", "Tensor", "Imaging", "Ingest"], swiftSettings: numericFlags),
        .target(name: "Catalog", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // Block codecs and streaming gzip: the one Swift home of CCompression.
        .target(name: "Compression", dependencies: ["CCompression"]),
        .target(name: "Export", dependencies: ["Basics", "Compression"]),
        // Semantic dedup: spherical k-means and within-cluster near-duplicates of embeddings.
        .target(name: "SemanticDedup", dependencies: ["Basics", "Tensor"]),
        .target(name: "Report", dependencies: ["Basics", "Catalog"]),
        // Evaluation-set decontamination: the index of evaluation images (SHA-256, pHash) and the
        // exact, perceptual and embedding matches against it.
        .target(name: "Decontamination", dependencies: ["Basics", "Imaging", "Ingest", "Tensor"]),
        .target(name: "Evaluation"),
        // Rule gates: sample and caption rules, blocklists of millions of entries.
        .target(name: "Gates", dependencies: ["Basics"]),
        // The bundled benchmark's generator, reached from the product only through `capfilt demo`.
        .target(name: "DemoData", dependencies: ["Basics", "Export", "Imaging"]),
        // A small HTTP/1.1 server on 127.0.0.1: the demo serves its web split with it, the CLI
        // tests their fetches.
        .target(name: "LoopbackHTTP", dependencies: ["Basics"]),
        .target(
            name: "Pipeline",
            dependencies: ["Basics", "Catalog", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Stages",
            dependencies: ["Basics", "Pipeline", "Catalog", "Compression", "Ingest", "Imaging", "MED", "Tensor", "Export", "Report", "Training", "Evaluation", "Gates", "SemanticDedup", "Decontamination"]),
        .executableTarget(
            name: "capfilt",
            dependencies: [
                "Basics", "Catalog", "MED", "Imaging", "Tensor", "Ingest", "Pipeline", "Stages", "Training", "DemoData", "LoopbackHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The benchmarks of `make bench` (scripts/bench_*.py), apart from the product; they use
        // the libraries' public API only.
        .executableTarget(
            name: "capfilt-bench",
            dependencies: [
                "Basics", "DemoData", "Export", "MED", "Imaging", "Ingest", "Tensor", "Catalog", "Gates", "Pipeline", "SemanticDedup", "Stages", "Training",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "MEDTests", dependencies: ["MED", "Tensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Basics", "Imaging"], resources: [.copy("Fixtures")]),
        // CLITests and PipelineTests run the built executables rather than import them.
        .testTarget(name: "CLITests", dependencies: ["capfilt", "capfilt-bench", "Basics", "LoopbackHTTP"]),
        .testTarget(name: "IngestTests", dependencies: ["Basics", "DemoData", "Export", "Ingest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "MED", "Tensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog"]),
        .testTarget(name: "SemanticDedupTests", dependencies: ["Basics", "SemanticDedup"]),
        .testTarget(name: "DecontaminationTests", dependencies: ["Basics", "Decontamination", "DemoData", "Imaging", "Ingest", "Tensor"]),
        .testTarget(name: "ExportTests", dependencies: ["Basics", "Export", "Compression", "Ingest"]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "GatesTests", dependencies: ["Gates"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DemoDataTests", dependencies: ["DemoData", "Evaluation", "Imaging", "Ingest"]),
        .testTarget(name: "LoopbackHTTPTests", dependencies: ["LoopbackHTTP"]),
        // The stage tests' generated dataset, shared by the Stages and Pipeline tests.
        .target(name: "TestFixtures", dependencies: ["Imaging"], path: "Tests/TestFixtures"),
        .testTarget(name: "StagesTests", dependencies: ["Basics", "Stages", "Pipeline", "Catalog", "Imaging", "Ingest", "Training", "TestFixtures"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["TestFixtures", "DemoData", "Pipeline", "Stages", "Catalog", "Imaging", "capfilt", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
