import Imaging

/// libFuzzer entry point: every input goes through the decoders (format sniffed from the bytes)
/// with tight limits so that hostile headers cannot ask for more than a few megapixels, in both
/// alpha modes and with EXIF orientation. A decoded image is also resized, hashed, re-encoded
/// and put through the training augmentation; the last input byte picks the options, the resize
/// filter and the target size.
///
/// Decode failures must be typed `ImageError`s; anything else (a crash, a sanitizer report, a
/// precondition failure) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = DecodeLimits(maxPixels: 4_000_000)
    _ = try? ImageDecoder.dimensions(bytes)
    let selector = Int(bytes[size - 1])
    let image: RGBImage
    do {
        image = try ImageDecoder.decode(
            bytes, limits: limits, alpha: selector & 1 == 0 ? .compositeOnWhite : .drop,
            minimumSize: selector & 2 == 0 ? nil : (width: 16 + selector, height: 16 + selector / 2),
            applyOrientation: selector & 4 != 0)
    } catch {
        return 0
    }
    let filters = ResampleFilter.allCases
    let filter = filters[(selector >> 3) % filters.count]
    let width = max(1, min(512, image.width / 2 + (selector & 0x3F)))
    let height = max(1, min(512, image.height * 2 / 3 + (selector >> 6)))
    let resized = resize(image, width: width, height: height, filter: filter)
    _ = BlipImageTransform(size: 16)(resized)
    _ = PerceptualHash.phash(resized)
    _ = PerceptualHash.dhash(resized)
    let exported = ExportResizer(imageSize: 32, mode: selector & 8 == 0 ? .border : .centerCrop)(resized)
    _ = try? ImageEncoder.jpeg(exported, quality: 75)
    // Training augmentation (crop search, flip, RandAugment warps) at a magnitude from the input.
    var rng = SplitMix64(seed: UInt64(size) << 8 | UInt64(selector))
    let train = BlipTrainTransform(
        size: 8 + selector % 24, scale: (0.2, 1), randAugment: RandAugment(count: 2, magnitude: Double(selector % 11)))
    _ = train(resized, using: &rng)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links Linux executables with `main` aliased to `<module>_main`; this is that entry,
/// and it hands control to libFuzzer's driver.
@_cdecl("ImagingFuzz_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
