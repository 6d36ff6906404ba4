/// What to generate. The defaults are the demo's (docs/demo.md): sizes a 2-core machine trains
/// on in minutes, a test split large enough to resolve a 5-point R@1 difference, ~40% web noise.
public struct DemoDataOptions: Sendable, Equatable {
    public var seed: UInt64
    /// Width and height of every image, pixels.
    public var imageSize: Int
    /// COCO-style human-annotated training images.
    public var humanImages: Int
    /// A second human split (COCO val layout) for choosing a filter threshold without test labels.
    public var humanValidationImages: Int
    /// CC3M-style web rows (one image each).
    public var webImages: Int
    /// Held-out clean test images; their scenes are all distinct.
    public var testImages: Int
    /// Images labelled with their object's shape and position, for pre-training the image
    /// encoder as a classifier: the role ImageNet plays for BLIP's ViT (docs/demo.md).
    public var labelledImages: Int
    /// Web-like rows, each marked as matching or not, for choosing the filter threshold
    /// (`DemoDataset.audit`).
    public var auditRows: Int
    /// Ground-truth captions per human, validation and test image.
    public var captionsPerImage: Int
    public var noise: NoiseShares
    /// Which scene attributes vary.
    public var variety: SceneVariety
    /// Port written into the web manifest's URLs (the loopback server's).
    public var webPort: UInt16
    public var jpegQuality: Int
    /// Test images planted in the web split as edited copies (`DemoDataset.planted`): what a
    /// decontaminate stage must find.
    public var plantedTestCopies: Int

    public init(
        seed: UInt64 = 2022, imageSize: Int = 64, humanImages: Int = 1000, humanValidationImages: Int = 200,
        webImages: Int = 3000, testImages: Int = 1000, labelledImages: Int = 5000, auditRows: Int = 1000, captionsPerImage: Int = 5,
        noise: NoiseShares = NoiseShares(), variety: SceneVariety = .standard, webPort: UInt16 = 8377, jpegQuality: Int = 90,
        plantedTestCopies: Int = 40
    ) {
        precondition(imageSize >= 16 && humanImages >= 0 && humanValidationImages >= 0 && webImages >= 0 && testImages >= 0
                     && labelledImages >= 0 && auditRows >= 0)
        precondition((1...CaptionWriter.templateCount).contains(captionsPerImage))
        precondition(testImages <= variety.combinations, "more test images than distinct scenes")
        self.seed = seed
        self.imageSize = imageSize
        self.humanImages = humanImages
        self.humanValidationImages = humanValidationImages
        self.webImages = webImages
        self.testImages = testImages
        self.labelledImages = labelledImages
        self.auditRows = auditRows
        self.captionsPerImage = captionsPerImage
        self.noise = noise
        self.variety = variety
        self.webPort = webPort
        self.jpegQuality = jpegQuality
        self.plantedTestCopies = plantedTestCopies
    }
}
