import Foundation
import XCTest

/// `capfilt doctor`: what it reports about this machine, in text and JSON.
final class DoctorCLITests: XCTestCase {
    func testJSONNamesTheCPUTheKernelsAndAPositiveProbe() throws {
        let r = try CLI.run(["doctor", "--json", "--threads", "1", "--seconds", "0.2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let d = try XCTUnwrap(CLI.jsonLines(r.stdout).last)
        let cpu = try XCTUnwrap(d["cpu"] as? [String: Any])
        let features = try XCTUnwrap(cpu["features"] as? [String])
        XCTAssertTrue(features.contains("sse2"))
        let kernels = try XCTUnwrap(d["kernels"] as? [String: Any])
        let path = try XCTUnwrap(kernels["elementwise"] as? String)
        XCTAssertTrue(["baseline", "avx2", "avx512"].contains(path))
        if features.contains("avx2") && features.contains("fma") { XCTAssertNotEqual(path, "baseline") }
        // The library runs the core it was asked for.
        XCTAssertEqual((kernels["openblas_core"] as? String)?.lowercased(),
                       (kernels["openblas_core_requested"] as? String)?.lowercased())
        let sgemm = try XCTUnwrap(d["sgemm"] as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(sgemm["gflops"] as? Double), 0)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(sgemm["gflops"] as? Double), try XCTUnwrap(sgemm["sustained_gflops"] as? Double))
        XCTAssertGreaterThan(try XCTUnwrap(d["peak_gflops"] as? Double), 0)
        XCTAssertEqual(d["threads"] as? Int, 1)
        // bf16 products: vdpbf16ps exactly where the CPU has AVX512_BF16 (and it passed its check).
        let bf16 = try XCTUnwrap(kernels["bf16_products"] as? String)
        if features.contains("avx512_bf16") {
            XCTAssertTrue(["avx512_bf16", "widened"].contains(bf16), bf16)
        } else {
            XCTAssertEqual(bf16, "widened")
            XCTAssertTrue((kernels["bf16_products_reason"] as? String ?? "").contains("no AVX512_BF16"))
        }
    }

    func testBF16ProductsCanBeChosenForComparisons() throws {
        var env = ProcessInfo.processInfo.environment
        for (asked, expected) in [("widened", "widened"), ("emulated", "emulated")] {
            env["CAPFILT_BF16_PRODUCTS"] = asked
            let r = try CLI.run(["doctor", "--json", "--threads", "1", "--seconds", "0.1"], environment: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            let kernels = try XCTUnwrap(CLI.jsonLines(r.stdout).last?["kernels"] as? [String: Any])
            XCTAssertEqual(kernels["bf16_products"] as? String, expected)
        }
    }

    func testForcedKernelPathIsUsedOrRefused() throws {
        var env = ProcessInfo.processInfo.environment
        env["CAPFILT_KERNELS"] = "baseline"
        let r = try CLI.run(["doctor", "--json", "--seconds", "0.1"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let kernels = try XCTUnwrap(CLI.jsonLines(r.stdout).last?["kernels"] as? [String: Any])
        XCTAssertEqual(kernels["elementwise"] as? String, "baseline")

        env["CAPFILT_KERNELS"] = "sse9"
        let bad = try CLI.run(["doctor", "--seconds", "0.1"], environment: env)
        XCTAssertEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("CAPFILT_KERNELS=sse9 is not one of"), bad.stderr)
    }
}
