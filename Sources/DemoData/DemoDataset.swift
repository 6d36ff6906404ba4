/// The splits of the benchmark, without pixels: every image's scene, its captions and (for the
/// web split) the alt-text actually published and why. `DemoDataWriter` renders and writes it.
public struct DemoDataset: Sendable {
    public enum Split: String, Sendable, CaseIterable {
        case human, validation, web, test

        var stream: UInt64 {
            switch self {
            case .human: return 1
            case .validation: return 2
            case .web: return 3
            case .test: return 4
            }
        }
    }

    /// One image of a human, validation or test split.
    public struct AnnotatedImage: Sendable {
        public let index: Int
        public let scene: SceneAttributes
        /// `captionsPerImage` captions, each in a different template.
        public let captions: [String]
    }

    /// One row of the web manifest.
    public struct WebRow: Sendable {
        /// 0-based row number: the key the CC3M reader gives it.
        public let index: Int
        public let scene: SceneAttributes
        public let kind: NoiseKind
        /// What the manifest says.
        public let altText: String
        /// The caption a clean row would have had.
        public let trueCaption: String
        /// For wrong-attribute rows, the attribute changed.
        public let changed: ChangedAttribute?
        /// For swapped rows, the row whose scene the alt-text describes.
        public let swappedWith: Int?
    }

    /// One image of the labelled split: a scene and its class.
    public struct LabelledImage: Sendable {
        public let index: Int
        public let scene: SceneAttributes
        /// The object's shape and position, e.g. "circle top": 25 classes.
        public var label: String { scene.shape.rawValue + " " + scene.position.rawValue }
    }

    public let options: DemoDataOptions
    public let human: [AnnotatedImage]
    public let validation: [AnnotatedImage]
    public let web: [WebRow]
    public let test: [AnnotatedImage]
    /// Labelled images for pre-training the image encoder (not one of `Split`: no captions, and
    /// the splits' bytes do not depend on it).
    public let labelled: [LabelledImage]
    /// An audited sample of web pairs: other images, the web split's noise process, every row
    /// marked as matching its image or not. It stands for the few hundred web pairs a data team
    /// checks by hand to choose a filter threshold; the web split's own labels stay for judging.
    public let audit: [WebRow]
    /// Test images planted in the web split (its last rows), with how each copy was made.
    public let planted: [PlantedCopy]
    /// Web rows planted as semantic duplicates of earlier web rows (`SemanticDuplicatePlanting`):
    /// the variants are the last rows of `web`.
    public let semanticPairs: [SemanticDuplicatePlanting.Pair]

    /// The random streams of the labelled split and the audit sample (the four splits use 1 to 4).
    static let labelledStream: UInt64 = 5
    static let auditStream: UInt64 = 6

    public init(options: DemoDataOptions) {
        self.options = options
        human = Self.annotated(.human, count: options.humanImages, options: options)
        validation = Self.annotated(.validation, count: options.humanValidationImages, options: options)
        test = Self.annotated(.test, count: options.testImages, options: options)
        let noisyWeb = Self.webRows(count: options.webImages, sceneStream: Split.web.stream, assignStream: 0x7765_6200, options: options)
        // Planted after the noisy rows, so those keep their indices and bytes: semantic
        // duplicates of web rows first, then copies of test images.
        let semantic = SemanticDuplicatePlanting.plant(after: noisyWeb, options: options, style: { Self.style($0, options) })
        let copies = Self.plantedCopies(test: test, firstIndex: noisyWeb.count + semantic.rows.count, options: options)
        web = noisyWeb + semantic.rows + copies.rows
        semanticPairs = semantic.pairs
        planted = copies.copies
        audit = Self.webRows(count: options.auditRows, sceneStream: Self.auditStream, assignStream: 0x7765_6201, options: options)
        labelled = (0..<options.labelledImages).map { i in
            var rng = Self.sceneStream(options, stream: Self.labelledStream, i)
            return LabelledImage(index: i, scene: SceneAttributes.random(&rng, variety: options.variety))
        }
    }

    /// The random stream of one item's scene (and captions) in the numbered stream `stream`.
    static func sceneStream(_ options: DemoDataOptions, stream: UInt64, _ index: Int) -> DemoRandom {
        DemoRandom(seed: options.seed, stream: stream &* 16, index: UInt64(index))
    }

    /// The random stream of one item's pixels (layout jitter, grain) in the numbered stream `stream`.
    static func pixelStream(_ options: DemoDataOptions, stream: UInt64, _ index: Int) -> DemoRandom {
        DemoRandom(seed: options.seed, stream: stream &* 16 &+ 1, index: UInt64(index))
    }

    static func pixelStream(_ options: DemoDataOptions, _ split: Split, _ index: Int) -> DemoRandom {
        pixelStream(options, stream: split.stream, index)
    }

    private static func sceneStream(_ options: DemoDataOptions, _ split: Split, _ index: Int) -> DemoRandom {
        sceneStream(options, stream: split.stream, index)
    }

    /// Without textures every object is plain, so "plain" is never said.
    static func style(_ style: CaptionStyle, _ options: DemoDataOptions) -> CaptionStyle {
        var s = style
        if !options.variety.textures { s.sayPlain = false }
        return s
    }

    private static func annotated(_ split: Split, count: Int, options: DemoDataOptions) -> [AnnotatedImage] {
        var seen = Set<SceneAttributes>()
        var images: [AnnotatedImage] = []
        images.reserveCapacity(count)
        for i in 0..<count {
            var rng = sceneStream(options, split, i)
            var scene = SceneAttributes.random(&rng, variety: options.variety)
            // Test scenes are distinct, so that every test caption has exactly one right image.
            while split == .test && seen.contains(scene) { scene = SceneAttributes.random(&rng, variety: options.variety) }
            seen.insert(scene)
            var templates = Array(0..<CaptionWriter.templateCount)
            rng.shuffle(&templates)
            let captions = templates.prefix(options.captionsPerImage).map { t in
                CaptionWriter.caption(scene, style: style(.random(&rng, template: t, sentenceCase: rng.chance(1, in: 2)), options))
            }
            images.append(AnnotatedImage(index: i, scene: scene, captions: captions))
        }
        return images
    }

    /// `count` web-like rows: scenes from `sceneStream`, noise kinds shuffled by `assignStream`.
    private static func webRows(count n: Int, sceneStream: UInt64, assignStream: UInt64, options: DemoDataOptions) -> [WebRow] {
        var scenes: [SceneAttributes] = []
        var styles: [CaptionStyle] = []
        var rngs: [DemoRandom] = []
        for i in 0..<n {
            var rng = Self.sceneStream(options, stream: sceneStream, i)
            scenes.append(.random(&rng, variety: options.variety))
            // Web alt-text is lower case without a final period, like CC3M's.
            styles.append(style(.random(&rng, sentenceCase: false), options))
            rngs.append(rng)
        }
        var assignRng = DemoRandom(seed: options.seed, stream: assignStream, index: 0)
        let kinds = options.noise.assign(rows: n, rng: &assignRng)
        var rows: [WebRow] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            var rng = rngs[i]
            let truth = CaptionWriter.caption(scenes[i], style: styles[i])
            var alt = truth
            var changed: ChangedAttribute?
            var other: Int?
            switch kinds[i] {
            case .clean: break
            case .junk: alt = WebNoise.junk(&rng)
            case .wrongAttribute:
                let (wrong, what) = WebNoise.corrupt(scenes[i], variety: options.variety, rng: &rng)
                alt = CaptionWriter.caption(wrong, style: styles[i])
                changed = what
            case .swapped:
                // Another row's scene; a made-up different scene if no row differs (tiny sets).
                var otherScene: SceneAttributes?
                for _ in 0..<(n > 1 ? 64 : 0) {
                    let j = rng.below(n)
                    if j != i && scenes[j] != scenes[i] {
                        otherScene = scenes[j]
                        other = j
                        break
                    }
                }
                if otherScene == nil {
                    var s = SceneAttributes.random(&rng, variety: options.variety)
                    while s == scenes[i] { s = SceneAttributes.random(&rng, variety: options.variety) }
                    otherScene = s
                }
                alt = CaptionWriter.caption(otherScene!, style: styles[i])
            }
            rows.append(WebRow(
                index: i, scene: scenes[i], kind: kinds[i], altText: alt, trueCaption: truth,
                changed: changed, swappedWith: other))
        }
        return rows
    }
}
