import Foundation
import Pipeline
import Stages
import XCTest

/// docs/parameters.md is generated from the stage declarations; it must match them.
final class ParameterReferenceTests: XCTestCase {
    func testCommittedReferenceMatchesTheDeclarations() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: repository.appendingPathComponent("docs/parameters.md"), encoding: .utf8)
        let generated = StandardStages.registry.parameterReference()
        XCTAssertEqual(committed, generated, "docs/parameters.md is stale: run `make docs` (capfilt stages --markdown > docs/parameters.md)")
    }

    /// Every stage type's keys are unique and each documents itself.
    func testEveryKeyIsDeclaredOnceWithHelp() {
        for type in StandardStages.registry.types.values {
            let names = type.parameters.map(\.name)
            XCTAssertEqual(names.count, Set(names).count, "\(type.name) declares a key twice")
            for spec in type.parameters {
                XCTAssertFalse(spec.help.isEmpty, "\(type.name).\(spec.name) has no help")
            }
        }
    }

    /// A key that has no effect under the current settings stays out of the fingerprint: the
    /// fixed threshold once a calibration file chooses it, the calibration keys without one.
    func testInactiveKeysStayOutOfTheFingerprint() throws {
        let filter = try XCTUnwrap(StandardStages.registry["filter"])
        func fingerprinted(_ values: [String: ParameterValue]) -> StageParameters {
            var filled = values
            for spec in filter.parameters where filled[spec.name] == nil { filled[spec.name] = spec.defaultValue }
            return StageParameters(values: filled, specs: filter.parameters)
        }
        let fixed = fingerprinted(["model": .string("/m")])
        XCTAssertTrue(fixed.canonical.contains("\"threshold\""))
        XCTAssertFalse(fixed.canonical.contains("calibrate_keep"))
        let calibrated = fingerprinted(["model": .string("/m"), "calibrate_on": .string("/audit.json")])
        XCTAssertFalse(calibrated.canonical.contains("\"threshold\""), calibrated.canonical)
        XCTAssertTrue(calibrated.canonical.contains("calibrate_keep"))
        // So a calibrated filter's fingerprint ignores the threshold it no longer uses.
        let other = fingerprinted(["model": .string("/m"), "calibrate_on": .string("/audit.json"), "threshold": .double(0.9)])
        XCTAssertEqual(calibrated.canonical, other.canonical)
        let f1 = fingerprinted(["model": .string("/m"), "calibrate_on": .string("/audit.json"), "calibrate_rule": .string("f1")])
        XCTAssertFalse(f1.canonical.contains("calibrate_keep"), "the f1 rule keeps no share")

        let caption = try XCTUnwrap(StandardStages.registry["caption"])
        let beam = StageParameters(values: ["strategy": .string("beam"), "top_p": .double(0.9), "beams": .int(3)], specs: caption.parameters)
        XCTAssertFalse(beam.canonical.contains("top_p"))
        XCTAssertTrue(beam.canonical.contains("beams"))
    }
}
