import Foundation

/// What decontamination removed: counts per evaluation set and method, and examples.
public struct ContaminationSummary: Sendable, Codable, Equatable {
    public struct Count: Sendable, Codable, Equatable {
        public var evalSet: String
        public var method: String
        public var count: Int
        public init(evalSet: String, method: String, count: Int) { self.evalSet = evalSet; self.method = method; self.count = count }
    }

    /// One removed training sample and the evaluation image it matched.
    public struct Example: Sendable, Codable, Equatable {
        public var key: String
        /// A small encoded image of the training sample, or nil.
        public var thumbnail: [UInt8]?
        public var evalSet: String
        public var evalImage: String
        public var method: String
        /// Bits for phash, 0 for exact, the cosine for cosine, the correlation for residual.
        public var distance: Double
        public init(key: String, thumbnail: [UInt8]?, evalSet: String, evalImage: String, method: String, distance: Double) {
            self.key = key; self.thumbnail = thumbnail; self.evalSet = evalSet; self.evalImage = evalImage
            self.method = method; self.distance = distance
        }
    }

    /// Per (evaluation set, method), in that order.
    public var counts: [Count]
    public var examples: [Example]

    public init(counts: [Count], examples: [Example]) { self.counts = counts; self.examples = examples }

    public var removed: Int { counts.reduce(0) { $0 + $1.count } }
}

extension HTMLPage {
    mutating func contamination(_ summary: ContaminationSummary?) {
        sectionStart(.contamination)
        guard let summary else {
            add("<p class=\"empty\">No decontaminate stage in this run.</p>")
            add("</section>")
            return
        }
        if summary.counts.isEmpty {
            add("<p class=\"empty\">No training image was found in an evaluation set.</p>")
            add("</section>")
            return
        }
        add("<p>\(e(Format.count(summary.removed))) training samples removed as copies of evaluation images.</p>")
        add("<table>")
        add("<thead><tr><th scope=\"col\">Evaluation set</th><th scope=\"col\">Method</th><th scope=\"col\" class=\"num\">Removed</th></tr></thead>")
        add("<tbody>")
        for c in summary.counts {
            add("<tr><td>\(e(c.evalSet))</td><td>\(e(c.method))</td><td class=\"num\">\(e(Format.count(c.count)))</td></tr>")
        }
        add("</tbody></table>")
        add("<table class=\"texts\">")
        add("<thead><tr><th scope=\"col\">Training image</th><th scope=\"col\">Sample</th><th scope=\"col\">Evaluation image</th><th scope=\"col\">Method</th><th scope=\"col\" class=\"num\">Match</th></tr></thead>")
        add("<tbody>")
        for x in summary.examples {
            let thumb = x.thumbnail.map { "<img class=\"thumb\" alt=\"image \(e(x.key))\" src=\"\(dataURI($0))\">" } ?? "no thumbnail"
            let distance = Self.match(method: x.method, distance: x.distance)
            add("<tr><td>\(thumb)</td><td class=\"mono\">\(e(x.key))</td><td class=\"mono\">\(e(x.evalSet)):\(e(x.evalImage))</td><td>\(e(x.method))</td><td class=\"num\">\(e(distance))</td></tr>")
        }
        add("</tbody></table>")
        add("</section>")
    }

    /// How close a match was, in its method's terms: `same bytes`, `3 bits`, `cosine 0.962`,
    /// `correlation 0.412`.
    static func match(method: String, distance: Double) -> String {
        switch method {
        case "exact": return "same bytes"
        case "phash": return "\(Int(distance)) bits"
        case "cosine": return "cosine " + String(format: "%.3f", distance)
        case "residual": return "correlation " + String(format: "%.3f", distance)
        default: return String(format: "%.3f", distance)
        }
    }
}
