/// What the sample rules look at: the URL, the image's digest and size, and LAION's scores. A
/// value a sample does not have (no URL, no `punsafe` column) passes the rules on it.
public struct GateSample: Sendable, Equatable {
    public var url: String?
    public var sha256: String?
    /// The image's size: decoded when the gate runs after `decode`, the manifest's before.
    public var width: GateValue
    public var height: GateValue
    public var similarity: GateValue
    public var punsafe: GateValue
    public var pwatermark: GateValue

    public init(url: String? = nil, sha256: String? = nil, width: GateValue = .absent, height: GateValue = .absent,
                similarity: GateValue = .absent, punsafe: GateValue = .absent, pwatermark: GateValue = .absent) {
        self.url = url; self.sha256 = sha256; self.width = width; self.height = height
        self.similarity = similarity; self.punsafe = punsafe; self.pwatermark = pwatermark
    }
}

/// The rules on whole samples. Every rule is off (nil) unless set; bounds hold inclusively
/// (`min_side: 200` keeps a 200-pixel side, `max_punsafe: 0.5` keeps 0.5). The aspect ratio is
/// width / height, so a range `0.5...2` keeps images up to twice as wide as high or high as wide.
/// Checked in `GateRule` order; the first rule that fails is the sample's.
public struct SampleRules: Sendable {
    public var urlBlocklist: Blocklist?
    public var domainBlocklist: Blocklist?
    public var sha256Blocklist: Blocklist?
    public var minSide: Int?
    public var minPixels: Int?
    public var minAspectRatio: Double?
    public var maxAspectRatio: Double?
    public var minSimilarity: Double?
    public var maxPunsafe: Double?
    public var maxPwatermark: Double?

    public init(urlBlocklist: Blocklist? = nil, domainBlocklist: Blocklist? = nil, sha256Blocklist: Blocklist? = nil,
                minSide: Int? = nil, minPixels: Int? = nil, minAspectRatio: Double? = nil, maxAspectRatio: Double? = nil,
                minSimilarity: Double? = nil, maxPunsafe: Double? = nil, maxPwatermark: Double? = nil) {
        self.urlBlocklist = urlBlocklist; self.domainBlocklist = domainBlocklist; self.sha256Blocklist = sha256Blocklist
        self.minSide = minSide; self.minPixels = minPixels; self.minAspectRatio = minAspectRatio
        self.maxAspectRatio = maxAspectRatio; self.minSimilarity = minSimilarity; self.maxPunsafe = maxPunsafe
        self.maxPwatermark = maxPwatermark
    }

    /// Whether any rule reads the image's size.
    public var readsDimensions: Bool { minSide != nil || minPixels != nil || minAspectRatio != nil || maxAspectRatio != nil }
    /// Whether any rule reads LAION's score columns.
    public var readsScores: Bool { minSimilarity != nil || maxPunsafe != nil || maxPwatermark != nil }

    /// The first rule `sample` fails, or nil when it passes them all.
    public func judge(_ sample: GateSample) -> GateDrop? {
        if let url = sample.url, !url.isEmpty {
            if let list = urlBlocklist, list.contains(url) { return GateDrop(.urlBlocklist, "URL listed in \(list.name)") }
            if let list = domainBlocklist, let domain = list.listedDomain(ofURL: url) {
                return GateDrop(.domainBlocklist, "\(domain) listed in \(list.name)")
            }
        }
        if let list = sha256Blocklist, let sha = sample.sha256, list.contains(sha) {
            return GateDrop(.sha256Blocklist, "\(sha.prefix(16))... listed in \(list.name)")
        }
        if let drop = judgeDimensions(sample.width, sample.height) { return drop }
        if let drop = atLeast(sample.similarity, minSimilarity, .minSimilarity, "similarity") { return drop }
        if let drop = atMost(sample.punsafe, maxPunsafe, .maxPunsafe, "punsafe") { return drop }
        if let drop = atMost(sample.pwatermark, maxPwatermark, .maxPwatermark, "pwatermark") { return drop }
        return nil
    }

    private func judgeDimensions(_ width: GateValue, _ height: GateValue) -> GateDrop? {
        guard readsDimensions else { return nil }
        let first: GateRule = minSide != nil ? .minSide : minPixels != nil ? .minPixels : minAspectRatio != nil ? .minAspectRatio : .maxAspectRatio
        let w: Double, h: Double
        switch (width, height) {
        case (.number(let a), .number(let b)): w = a; h = b
        case (.unreadable(let t), _): return GateDrop(first, "width `\(t)` is not a number")
        case (_, .unreadable(let t)): return GateDrop(first, "height `\(t)` is not a number")
        default: return nil  // no size known: nothing to judge
        }
        let size = "\(gateNumber(w))x\(gateNumber(h))"
        guard w > 0, h > 0 else { return GateDrop(first, "\(size) is not an image size") }
        if let minSide, min(w, h) < Double(minSide) { return GateDrop(.minSide, "\(gateNumber(min(w, h))) < \(minSide) (\(size))") }
        if let minPixels, w * h < Double(minPixels) { return GateDrop(.minPixels, "\(gateNumber(w * h)) < \(minPixels) (\(size))") }
        let ratio = w / h
        if let minAspectRatio, ratio < minAspectRatio {
            return GateDrop(.minAspectRatio, "\(gateNumber(ratio)) < \(gateNumber(minAspectRatio)) (\(size))")
        }
        if let maxAspectRatio, ratio > maxAspectRatio {
            return GateDrop(.maxAspectRatio, "\(gateNumber(ratio)) > \(gateNumber(maxAspectRatio)) (\(size))")
        }
        return nil
    }

    private func atLeast(_ value: GateValue, _ bound: Double?, _ rule: GateRule, _ name: String) -> GateDrop? {
        guard let bound else { return nil }
        switch value {
        case .absent: return nil
        case .unreadable(let t): return GateDrop(rule, "\(name) `\(t)` is not a number")
        case .number(let x): return x < bound ? GateDrop(rule, "\(gateNumber(x)) < \(gateNumber(bound))") : nil
        }
    }

    private func atMost(_ value: GateValue, _ bound: Double?, _ rule: GateRule, _ name: String) -> GateDrop? {
        guard let bound else { return nil }
        switch value {
        case .absent: return nil
        case .unreadable(let t): return GateDrop(rule, "\(name) `\(t)` is not a number")
        case .number(let x): return x > bound ? GateDrop(rule, "\(gateNumber(x)) > \(gateNumber(bound))") : nil
        }
    }
}
