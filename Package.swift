// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric kernels want the optimiser to see through bounds checks in the
// innermost loops, and (on x86-64) AVX2 + FMA for the 16-lane SIMD kernels: without them every
// SIMD16<Float> operation is split into four SSE instructions. CAPFILT_PORTABLE=1 builds for the
// x86-64 baseline instead. Debug builds and tests keep all checks.
var releaseKernelFlags = ["-Ounchecked", "-wmo"]
#if arch(x86_64)
if Context.environment["CAPFILT_PORTABLE"] == nil { releaseKernelFlags += ["-target-cpu", "haswell"] }
#endif
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(releaseKernelFlags, .when(configuration: .release)),
]
// The Tensor kernels are optimised in debug builds too: unoptimised SIMD code is ~100x slower,
// which would make the model parity tests crawl; the kernels are tested on their own instead.
let tensorFlags: [SwiftSetting] = kernelFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "capfilt",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "capfilt", targets: ["capfilt"]),
        .library(name: "MED", targets: ["MED"]),
        .library(name: "Imaging", targets: ["Imaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries: one C module each, imported by exactly one Swift module.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png")]),
        .target(name: "CWebP", path: "Sources/CWebP", linkerSettings: [.linkedLibrary("webp")]),
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(
            name: "CCompression", path: "Sources/CCompression",
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("snappy"), .linkedLibrary("zstd")]),

        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: tensorFlags),
        .target(name: "Imaging", dependencies: ["CJPEG", "CPNG", "CWebP"], swiftSettings: kernelFlags),
        .target(
            name: "MED", dependencies: ["Tensor"],
            resources: [.copy("Resources/vocab.txt")],
            swiftSettings: kernelFlags),
        .target(name: "Ingest", dependencies: ["CCurl", "CCompression"]),
        .executableTarget(
            name: "capfilt",
            dependencies: [
                "MED", "Imaging", "Tensor", "Ingest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "MEDTests", dependencies: ["MED", "Tensor", "Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Ingest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["capfilt"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
