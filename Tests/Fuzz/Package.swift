// swift-tools-version: 6.0
import PackageDescription

// libFuzzer target for the Imaging decoders and resampler. A separate package so that the root
// package's build and tests never see it. Build and run with `make fuzz` (see the Makefile), or:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
//     -Xcc -fsanitize=fuzzer-no-link,address
//   .build/release/ImagingFuzz CORPUS_DIR -max_len=65536 -max_total_time=600
let package = Package(
    name: "ImagingFuzz",
    dependencies: [.package(name: "capfilt", path: "../..")],
    targets: [
        .executableTarget(
            name: "ImagingFuzz",
            dependencies: [.product(name: "Imaging", package: "capfilt")]),
    ],
    swiftLanguageModes: [.v6]
)
