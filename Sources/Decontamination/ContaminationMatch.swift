/// How a training image was found in an evaluation set.
public enum ContaminationMethod: String, Sendable, CaseIterable, Codable {
    /// The same image bytes (SHA-256).
    case exact
    /// Perceptual hashes within the Hamming radius.
    case phash
    /// Cosine of the normalised ITC image embeddings at or above the threshold.
    case cosine
    /// An edited copy: among the closest layouts, residual correlation at or above the threshold
    /// (Imaging's `CopySignature`).
    case residual
}

/// A training image's match in an evaluation set: which image, by which method, how close
/// (bits for phash, 0 for exact, the cosine for cosine, the correlation for residual).
public struct ContaminationMatch: Sendable, Equatable {
    public var method: ContaminationMethod
    public var evalSet: String
    public var evalImage: String
    public var distance: Double

    public init(method: ContaminationMethod, evalSet: String, evalImage: String, distance: Double) {
        self.method = method; self.evalSet = evalSet; self.evalImage = evalImage; self.distance = distance
    }

    /// `exact copy of coco-test:val2014/x.jpg`, `phash 3 bits from coco-test:val2014/x.jpg`,
    /// `cosine 0.962 with coco-test:val2014/x.jpg`.
    public var reason: String {
        let image = evalSet + ":" + evalImage
        switch method {
        case .exact: return "exact copy of \(image)"
        case .phash: return "phash \(Int(distance)) bits from \(image)"
        case .cosine: return "cosine \(String(format: "%.3f", distance)) with \(image)"
        case .residual: return "residual correlation \(String(format: "%.3f", distance)) with \(image)"
        }
    }
}
