import XCTest
@testable import Training

/// Global-norm clipping as torch.nn.utils.clip_grad_norm_ (factor max / (norm + 1e-6)).
final class GradientClippingTests: XCTestCase {
    func testGlobalNormClipping() {
        let a = Parameter("a", shape: [3], decays: true), b = Parameter("b", shape: [1], decays: false)
        a.grad.copy(from: [3, 0, 0]); b.grad.copy(from: [4])
        let optimizer = AdamW(parameters: [a, b])
        XCTAssertEqual(optimizer.clipGradients(maxNorm: 10), 5, accuracy: 1e-9)
        XCTAssertEqual(a.grad.toArray() + b.grad.toArray(), [3, 0, 0, 4])
        XCTAssertEqual(optimizer.clipGradients(maxNorm: 1), 5, accuracy: 1e-9)
        XCTAssertEqual(a.grad[flat: 0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(b.grad[flat: 0], 0.8, accuracy: 1e-6)
    }
}
