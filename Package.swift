// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric kernels want the optimiser to see through bounds checks
// in the innermost loops; the checks stay on in debug builds and tests.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

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

        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: kernelFlags),
        .target(name: "Imaging", dependencies: ["CJPEG", "CPNG", "CWebP"], swiftSettings: kernelFlags),
        .target(
            name: "MED", dependencies: ["Tensor"],
            resources: [.copy("Resources/vocab.txt")],
            swiftSettings: kernelFlags),
        .executableTarget(
            name: "capfilt",
            dependencies: [
                "MED", "Imaging", "Tensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "MEDTests", dependencies: ["MED", "Tensor", "Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
