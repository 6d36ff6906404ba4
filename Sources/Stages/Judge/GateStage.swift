import Catalog
import Foundation
import Gates
import Pipeline

/// Rule gates with reasons: cheap rules over what the catalog already knows of a sample (its URL,
/// its manifest columns, its image's digest and size) and of its captions, applied where their
/// inputs exist. One type, usable at several points of a pipeline, each instance with its own
/// rules: before `fetch` (blocklists, LAION scores, manifest sizes: nothing dropped there is
/// downloaded), after `decode` (decoded sizes, the SHA-256 blocklist), after `caption` (bounds on
/// synthetic captions). Every rule is off unless given.
///
/// A sample that fails a rule ends the stage with the rule's name as its status and the value
/// against the bound as its reason (`min_side`, `180 < 200 (180x320)`), so it is offered to no
/// stage downstream and `capfilt status` counts it by rule. A caption that fails a rule is
/// dropped, not its sample (the image may still get a synthetic caption): it gets a row in
/// `gated_texts`, and the filter and assemble leave it out. The rules themselves live in the
/// `Gates` module; this file wires parameters, the catalog and them.
final class GateStage: SampleStage {
    let batchSize: Int
    let name: String
    let rules: GateRules
    /// The image size comes from the decode stage when one is upstream, from the manifest before.
    let decodedSizes: Bool
    /// Without a fetch upstream the gate reads manifest data only, so its marks hold for the image
    /// the sample gets later (and for a new one after a re-fetch).
    let readsImages: Bool
    let textOrigins: Set<TextOrigin>
    /// Blocklists are read on first use, not when the run is built: an up-to-date gate costs nothing.
    private var loaded: SampleRules?
    private let setup: StageSetup

    /// The gate's parameters, each declared once.
    enum Keys {
        static let urlBlocklist = StageParameter<String?>.optional(
            "url_blocklist", .path(mustExist: true),
            help: "file of URLs to drop, one a line (`#` comments; scheme and host compared without case, fragment ignored)")
        static let domainBlocklist = StageParameter<String?>.optional(
            "domain_blocklist", .path(mustExist: true),
            help: "file of host names to drop, one a line; an entry blocks its subdomains too")
        static let sha256Blocklist = StageParameter<String?>.optional(
            "sha256_blocklist", .path(mustExist: true),
            help: "file of image SHA-256 digests (hex) to drop, one a line; needs a `fetch` stage upstream")
        static let minSide = StageParameter<Int?>.optional(
            "min_side", .int(1...1_000_000), help: "drop images whose shorter side has fewer pixels")
        static let minPixels = StageParameter<Int?>.optional(
            "min_pixels", .int(1...1_000_000_000_000), help: "drop images with fewer pixels (width x height)")
        static let minAspectRatio = StageParameter<Double?>.optional(
            "min_aspect_ratio", .double(0...100_000), help: "drop images whose width / height is below")
        static let maxAspectRatio = StageParameter<Double?>.optional(
            "max_aspect_ratio", .double(0...100_000), help: "drop images whose width / height is above")
        static let minSimilarity = StageParameter<Double?>.optional(
            "min_similarity", .double(-1...1), help: "drop samples whose manifest `similarity` (LAION's CLIP cosine) is below")
        static let maxPunsafe = StageParameter<Double?>.optional(
            "max_punsafe", .double(0...1), help: "drop samples whose manifest `punsafe` is above")
        static let maxPwatermark = StageParameter<Double?>.optional(
            "max_pwatermark", .double(0...1), help: "drop samples whose manifest `pwatermark` is above")
        static let minWords = StageParameter<Int?>.optional(
            "min_words", .int(0...1_000_000), help: "drop captions with fewer words")
        static let maxWords = StageParameter<Int?>.optional(
            "max_words", .int(0...1_000_000), help: "drop captions with more words")
        static let minChars = StageParameter<Int?>.optional(
            "min_chars", .int(0...100_000_000), help: "drop captions with fewer characters")
        static let maxChars = StageParameter<Int?>.optional(
            "max_chars", .int(0...100_000_000), help: "drop captions with more characters")
        static let textOrigins = StageParameter<[TextOrigin]>(
            "text_origins", .list(.choice(TextOrigin.allCases.map(\.rawValue))), default: [.web, .synthetic],
            help: "the captions the word and character bounds judge",
            appliesWhen: ParameterCondition("when a caption bound is given") { p in
                [minWords.spec, maxWords.spec, minChars.spec, maxChars.spec].contains { p.values[$0.name] != nil }
            })
        static let batchSize = StageParameter("batch_size", .int(1...100_000), default: 1024, affectsResults: false,
                                              help: "samples judged per transaction")

        static let all = [urlBlocklist.spec, domainBlocklist.spec, sha256Blocklist.spec, minSide.spec, minPixels.spec,
                          minAspectRatio.spec, maxAspectRatio.spec, minSimilarity.spec, maxPunsafe.spec, maxPwatermark.spec,
                          minWords.spec, maxWords.spec, minChars.spec, maxChars.spec, textOrigins.spec, batchSize.spec]
        /// Each list key with the kind of entries its file holds.
        static let blocklists: [(key: StageParameter<String?>, kind: BlocklistKind)] = [
            (urlBlocklist, .url), (domainBlocklist, .domain), (sha256Blocklist, .sha256),
        ]
    }

    static let type = StageType(
        name: "gate", kind: .perSample, summary: "Rule gates with reasons: sizes, LAION scores, caption bounds, blocklists.",
        parameters: Keys.all,
        requires: ["ingest"],
        // A list's content, not its path, decides what is dropped.
        fingerprintInputs: { p in
            try Keys.blocklists.compactMap { list in
                try p[list.key].map { "\(list.key.spec.name)=" + (try FileDigest.sha256(path: $0)) }
            }
        },
        check: { setup in try GateStage.check(setup) },
        // A gate that drops most of a source did what it was told; that is no lost source.
        checksFailureShare: false,
        make: { setup in try GateStage(setup) })

    init(_ setup: StageSetup) throws {
        try Self.check(setup)
        let p = setup.parameters
        self.setup = setup
        name = setup.definition.name
        batchSize = p[Keys.batchSize]
        let upstream = setup.pipeline.ancestors(of: name).compactMap { setup.pipeline.stage($0)?.type.name }
        decodedSizes = upstream.contains("decode")
        readsImages = upstream.contains("fetch")
        textOrigins = Set(p[Keys.textOrigins])
        rules = GateRules(
            sample: SampleRules(minSide: p[Keys.minSide], minPixels: p[Keys.minPixels], minAspectRatio: p[Keys.minAspectRatio],
                                maxAspectRatio: p[Keys.maxAspectRatio], minSimilarity: p[Keys.minSimilarity],
                                maxPunsafe: p[Keys.maxPunsafe], maxPwatermark: p[Keys.maxPwatermark]),
            text: TextRules(minWords: p[Keys.minWords], maxWords: p[Keys.maxWords], minChars: p[Keys.minChars],
                            maxChars: p[Keys.maxChars]))
    }

    /// What the key types alone cannot say: bounds in order, and a digest list only where there
    /// are digests.
    static func check(_ setup: StageSetup) throws {
        let p = setup.parameters
        func fail<V>(_ key: StageParameter<V>, _ problem: String) -> PipelineError {
            PipelineError(file: setup.pipeline.file, line: setup.definition.keyLines[key.spec.name] ?? setup.definition.line,
                          key: "stages.\(setup.definition.name).\(key.spec.name)", problem)
        }
        if let low = p[Keys.minAspectRatio], let high = p[Keys.maxAspectRatio], low > high {
            throw fail(Keys.maxAspectRatio, "\(high) is below min_aspect_ratio \(low)")
        }
        if let low = p[Keys.minWords], let high = p[Keys.maxWords], low > high {
            throw fail(Keys.maxWords, "\(high) is below min_words \(low)")
        }
        if let low = p[Keys.minChars], let high = p[Keys.maxChars], low > high {
            throw fail(Keys.maxChars, "\(high) is below min_chars \(low)")
        }
        if p[Keys.sha256Blocklist] != nil {
            let upstream = setup.pipeline.ancestors(of: setup.definition.name).compactMap { setup.pipeline.stage($0)?.type.name }
            guard upstream.contains("fetch") else {
                throw fail(Keys.sha256Blocklist, "needs a `fetch` stage upstream (the digests are of fetched images; add it to `needs`)")
            }
        }
    }

    /// The sample rules with their blocklists, read once per run.
    private func sampleRules(context: StageContext) throws -> SampleRules {
        if let loaded { return loaded }
        var sample = rules.sample
        for (key, kind) in Keys.blocklists {
            guard let path = setup.parameters[key] else { continue }
            let started = Date()
            let list: Blocklist
            do { list = try Blocklist(kind: kind, path: path) } catch let e as BlocklistError {
                throw PipelineError(file: setup.pipeline.file, line: setup.definition.keyLines[key.spec.name] ?? setup.definition.line,
                                    key: "stages.\(name).\(key.spec.name)", e.description)
            }
            context.logger.info("\(name): \(key.spec.name) \(list.name): \(list.entries) entries, \(list.distinctKeys) distinct, read in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            switch kind {
            case .url: sample.urlBlocklist = list
            case .domain: sample.domainBlocklist = list
            case .sha256: sample.sha256Blocklist = list
            }
        }
        loaded = sample
        return sample
    }

    func process(_ samples: [SampleRecord], context: StageContext) throws -> StageBatch {
        let sampleRules = try self.sampleRules(context: context)
        let synthetic = context.upstream(type: "caption")?.fingerprint
        let readsTexts = !rules.text.isEmpty
        // What the rules read, gathered in one read transaction.
        let (sizes, texts): ([Int64: (Int?, Int?)], [Int64: [TextRecord]]) = try context.catalog.read { session in
            var sizes: [Int64: (Int?, Int?)] = [:]
            var texts: [Int64: [TextRecord]] = [:]
            for s in samples {
                if decodedSizes, sampleRules.readsDimensions, let sha = s.imageSHA256, let image = try session.image(sha256: sha) {
                    sizes[s.id] = (image.width, image.height)
                }
            }
            if readsTexts {
                texts = try session.texts(sampleIDs: samples.map(\.id), syntheticFingerprint: synthetic)
                    .mapValues { $0.filter { textOrigins.contains($0.origin) } }
            }
            return (sizes, texts)
        }
        var marks: [ProgressMark] = []
        var dropped: [Int64: [GatedText]] = [:]
        for s in samples {
            var input = GateSample(url: s.url, sha256: s.imageSHA256)
            if sampleRules.readsScores || (sampleRules.readsDimensions && !decodedSizes) {
                let manifest = ManifestMetadata(json: s.metadata)
                input.similarity = manifest.similarity
                input.punsafe = manifest.punsafe
                input.pwatermark = manifest.pwatermark
                if !decodedSizes { input.width = manifest.width; input.height = manifest.height }
            }
            if decodedSizes, let (w, h) = sizes[s.id] { input.width = GateValue(w); input.height = GateValue(h) }
            if let drop = sampleRules.judge(input) {
                marks.append(ProgressMark(sampleID: s.id, status: SampleStatus(rawValue: drop.rule.rawValue), reason: drop.reason))
                dropped[s.id] = []
                continue
            }
            marks.append(.ok(s.id))
            dropped[s.id] = (texts[s.id] ?? []).compactMap { t in
                rules.text.judge(t.text).map { GatedText(textID: t.id, rule: $0.rule.rawValue, reason: $0.reason) }
            }
        }
        let stage = name, fingerprint = context.fingerprint
        return StageBatch(marks: marks, readNoImage: !readsImages) { session in
            for s in samples {
                try session.replaceGatedTexts(stage: stage, fingerprint: fingerprint, sampleID: s.id, dropped[s.id] ?? [])
            }
        }
    }
}
