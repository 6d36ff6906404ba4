import Foundation
import XCTest
@testable import MED
import Tensor

/// Access to the committed parity fixtures written by scripts/make_med_fixtures.py.
enum MEDFixtures {
    static var folder: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/med")
    }
    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) as! [String: Any]
    }

    static let captioner: BlipCaptioningModel = try! BlipCaptioningModel(folder: url("captioner"))
    static let retrieval: BlipRetrievalModel = try! BlipRetrievalModel(folder: url("itm"))
    static let expectedCaptioner = try! SafeTensorsFile(url: url("expected_captioner.safetensors"))
    static let expectedITM = try! SafeTensorsFile(url: url("expected_itm.safetensors"))
    static let inputs = try! SafeTensorsFile(url: url("inputs.safetensors"))
    nonisolated(unsafe) static let inputsJSON = try! json("inputs.json")

    static func pixels(_ which: String) -> Tensor {
        let name = "pixel_values_\(which)"
        return Tensor(shape: inputs.shape(of: name)!, values: try! inputs.floats(name))
    }

    /// input_ids / attention_mask of the two fixture texts, flattened [2·T].
    static func ids(_ key: String = "input_ids") -> (ids: [Int], sequences: Int) {
        let rows = inputsJSON[key] as! [[Int]]
        return (rows.flatMap { $0 }, rows.count)
    }
    static var keyValid: [Float] { (inputsJSON["attention_mask"] as! [[Int]]).flatMap { $0 }.map(Float.init) }
}

/// Compares a tensor with a reference tensor of the fixture file, reporting the max abs diff
/// (llm.c's check_tensor). Returns the max difference.
@discardableResult
func assertMatches(_ actual: Tensor, _ file: SafeTensorsFile, _ name: String, tolerance: Float = 1e-4,
                   line: UInt = #line) -> Float {
    guard let shape = file.shape(of: name) else {
        XCTFail("fixture has no tensor \(name)", line: line); return .infinity
    }
    let expected = try! file.floats(name)
    XCTAssertEqual(actual.count, expected.count, "\(name): element count (expected shape \(shape), got \(actual.shape))", line: line)
    guard actual.count == expected.count else { return .infinity }
    var worst: Float = 0
    for i in 0..<expected.count { worst = max(worst, abs(actual[flat: i] - expected[i])) }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(name): max abs diff \(worst)", line: line)
    print("parity \(name): max abs diff \(worst)")
    return worst
}
